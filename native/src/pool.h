// The engine's own thread pool: a fixed set of std::thread workers plus the calling thread.
// Workers poll for up to 50 µs after a job (kernels come in quick succession during training),
// yielding the core while they poll, then sleep on a condition variable: an idle engine costs
// nothing and a busy neighbour process keeps its cores. Tasks are claimed dynamically, so a
// worker that is not scheduled just gets fewer of them. Size: WATCHNEXT_THREADS, default = cores.
#pragma once

namespace wn {

// Threads that run a parallel_for (workers + the caller).
int pool_threads();
// Resizes the pool (n ≥ 1); joins the old workers first.
void pool_set_threads(int n);

// Runs fn(ctx, task) for every task in [0, ntasks), spread over the pool, and returns when all are
// done. Serial when the pool has one thread, when called from inside a pool task, or when another
// thread is already using the pool.
void parallel_for_raw(int ntasks, void (*fn)(void* ctx, int task), void* ctx);

template <typename F>
void parallel_for(int ntasks, F&& f) {
  if (ntasks <= 0) return;
  if (ntasks == 1) {
    f(0);
    return;
  }
  parallel_for_raw(
      ntasks, [](void* ctx, int task) { (*static_cast<F*>(ctx))(task); }, static_cast<void*>(&f));
}

}  // namespace wn
