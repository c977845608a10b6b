// Splitting a loop over the torch threads from code built without OpenMP.
//
// Why not at::parallel_for: with libtorch's OpenMP backend (Debian's build)
// at::parallel_for is a header template around `#pragma omp parallel`, so it
// runs in parallel only in files compiled with -fopenmp. Stipple is built with
// clang, whose OpenMP runtime (libomp) is not the one libtorch uses (libgomp),
// so our files are built without it and at::parallel_for runs the whole range
// on the calling thread (measured: the fused attention kernel took 0.42 s for
// 16 heads through at::parallel_for with 2 threads, 0.22 s on two threads).
//
// parallelRange runs the parts on ATen's own OpenMP team when libtorch uses
// libgomp (found at run time: GOMP_parallel, the call `#pragma omp parallel`
// compiles to), part 0 on the calling thread. Elsewhere it runs the first
// part on the calling thread and the others as tasks on libtorch's inter-op
// pool (at::launch), then waits for them; there it uses at most
// get_num_interop_threads() + 1 parts (configureRuntime sizes the pool to the
// torch thread count minus one). Use it for loops of plain C++ only: an ATen
// op called inside a part would run on one thread (inside the OpenMP team) or
// start a team of its own (on the pool).
// Thread-safety: reentrant; `fn` must be safe to call concurrently on
// disjoint ranges. Not for use inside an at::launch task (the caller waits for
// tasks queued behind it on the same pool).
#pragma once

#include <cstdint>
#include <functional>

namespace stipple::core {

// Calls fn(b, e, part) on disjoint, contiguous ranges covering [begin, end),
// at most `workers` of them (default: at::get_num_threads()), each at least
// `grain` long where possible; part (0, 1, ...) indexes per-worker scratch,
// and part 0 runs on the calling thread. Exceptions are rethrown here.
using RangeFunction = std::function<void(std::int64_t begin, std::int64_t end, int part)>;
void parallelRange(std::int64_t begin, std::int64_t end, std::int64_t grain, const RangeFunction &fn,
                   int workers = 0);

} // namespace stipple::core
