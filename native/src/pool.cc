// Thread pool implementation (see pool.h). One job at a time: the caller publishes the job under
// the mutex by bumping a generation counter, every worker takes tasks from a shared atomic
// counter, and the caller waits until every worker has checked out of that generation.
#include "pool.h"

#include <atomic>
#include <condition_variable>
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

// ~20-50 µs of spinning before a worker sleeps: long enough to bridge the gap between two kernel
// calls of a training step, short enough not to steal a shared core for long.
constexpr int kSpinIterations = 4000;

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
    ntasks_ = ntasks;
    next_.store(0, std::memory_order_relaxed);
    active_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lk(mu_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) work_cv_.notify_all();
    work();
    for (int i = 0; i < kSpinIterations && active_.load(std::memory_order_acquire) != 0; i++) WN_PAUSE();
    if (active_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return active_.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  void start(int threads) {
    stopping_ = false;
    // A worker starts from the current generation, so it cannot miss a job published before it runs.
    unsigned long g0 = gen_.load(std::memory_order_acquire);
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

  void work() {
    bool was = t_in_pool_task;
    t_in_pool_task = true;
    for (;;) {
      int t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= ntasks_) break;
      fn_(ctx_, t);
    }
    t_in_pool_task = was;
  }

  void loop(unsigned long seen) {
    for (;;) {
      unsigned long g = gen_.load(std::memory_order_acquire);
      for (int i = 0; i < kSpinIterations && g == seen; i++) {
        WN_PAUSE();
        g = gen_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        sleeping_.fetch_add(1, std::memory_order_acq_rel);
        work_cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
        sleeping_.fetch_sub(1, std::memory_order_acq_rel);
        g = gen_.load(std::memory_order_acquire);
      }
      seen = g;
      if (stopping_) return;
      work();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lk(mu_);
        done_cv_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mu_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::atomic<unsigned long> gen_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<int> next_{0};
  std::atomic<int> active_{0};
  bool stopping_ = false;
  int ntasks_ = 0;
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
