// Thread pool implementation (see pool.h). One job at a time. The caller publishes a job as one
// atomic ticket (task count, next task index); anyone — the caller included — claims tasks by
// compare-and-swap on that ticket, and the caller waits only until every task is done. A worker
// that wakes late (its core was busy with another process) finds nothing left to claim, so the
// caller never waits for a thread that has not started.
#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define WN_PAUSE() _mm_pause()
#else
#define WN_PAUSE() std::this_thread::yield()
#endif

namespace wn {
namespace {

// Before sleeping a thread polls for up to 50 µs: long enough to bridge the gap between two
// kernel calls of a training step. After the first few polls it yields the core at each poll, so
// when the machine is oversubscribed the poller hands its time slice to a thread with work
// (possibly our own caller) instead of burning it.
constexpr auto kSpinTime = std::chrono::microseconds(50);
constexpr int kPauseIterations = 64;

// Polls ready() with backoff for up to kSpinTime; returns its last value.
template <typename Ready>
bool spin_until(Ready ready) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; i++) {
    if (ready()) return true;
    if (i < kPauseIterations) {
      WN_PAUSE();
    } else {
      std::this_thread::yield();
      if (std::chrono::steady_clock::now() - start > kSpinTime) return ready();
    }
  }
}

thread_local bool t_in_pool_task = false;

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> call(call_mu_);
    stop();
    start(threads);
  }

  void run(int ntasks, void (*fn)(void*, int), void* ctx) {
    std::unique_lock<std::mutex> call(call_mu_, std::try_to_lock);
    if (!call.owns_lock() || workers_.empty() || t_in_pool_task) {
      for (int t = 0; t < ntasks; t++) fn(ctx, t);
      return;
    }
    fn_ = fn;
    ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    ticket_.store(static_cast<std::uint64_t>(ntasks) << 32, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(mu_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) work_cv_.notify_all();
    work();
    if (!spin_until([&] { return done_.load(std::memory_order_acquire) == ntasks; })) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return done_.load(std::memory_order_acquire) == ntasks; });
    }
  }

 private:
  void start(int threads) {
    stopping_ = false;
    // A worker starts from the current generation, so it cannot miss a job published before it runs.
    const unsigned long g0 = gen_.load(std::memory_order_acquire);
    for (int i = 1; i < threads; i++) workers_.emplace_back([this, g0] { loop(g0); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
      gen_.fetch_add(1, std::memory_order_release);
    }
    work_cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  // Claims and runs tasks of the current job until none is left. fn_/ctx_ are read only after a
  // successful claim: the job cannot end (nor its context go away) before that task is done.
  void work() {
    const bool was = t_in_pool_task;
    t_in_pool_task = true;
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t next = static_cast<std::uint32_t>(t), ntasks = static_cast<std::uint32_t>(t >> 32);
      if (next >= ntasks) break;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      fn_(ctx_, static_cast<int>(next));
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<int>(ntasks)) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_one();
      }
      t = ticket_.load(std::memory_order_acquire);
    }
    t_in_pool_task = was;
  }

  void loop(unsigned long seen) {
    for (;;) {
      unsigned long g = seen;
      if (!spin_until([&] { return (g = gen_.load(std::memory_order_acquire)) != seen; })) {
        std::unique_lock<std::mutex> lk(mu_);
        sleeping_.fetch_add(1, std::memory_order_acq_rel);
        work_cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
        sleeping_.fetch_sub(1, std::memory_order_acq_rel);
        g = gen_.load(std::memory_order_acquire);
      }
      seen = g;
      if (stopping_) return;
      work();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mu_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::atomic<unsigned long> gen_{0};
  std::atomic<int> sleeping_{0};
  // High 32 bits: tasks in the current job; low 32 bits: the next unclaimed task.
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<int> done_{0};
  bool stopping_ = false;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
};

int default_threads() {
  const char* env = std::getenv("WATCHNEXT_THREADS");
  if (env != nullptr && *env != 0) {
    int n = std::atoi(env);
    if (n >= 1) return n > 256 ? 256 : n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock.
  static Pool* p = new Pool(default_threads());
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }
void pool_set_threads(int n) { pool().resize(n < 1 ? 1 : n > 256 ? 256 : n); }
void parallel_for_raw(int ntasks, void (*fn)(void*, int), void* ctx) { pool().run(ntasks, fn, ctx); }

}  // namespace wn
