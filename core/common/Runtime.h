// Process-wide performance configuration, applied once at start-up by each
// executable (GUI, CLI, bench, trainer) before any model work.
// Thread-safety: call prepareProcessEnvironment() first thing in main(),
// configureRuntime() once from the main thread before inference starts.
#pragma once

#include <cstddef>
#include <string>

namespace stipple::core {

struct RuntimeOptions {
    int threads = 0;          // 0 = $STIPPLE_THREADS if set, else physical cores
    bool avx512Kernels = true; // ATen AVX-512 kernels where the CPU has them
    // Huge-page caching allocator for tensors >= 2 MiB (core/common/CpuAllocator.h).
    // $STIPPLE_HUGEPAGE_ALLOCATOR=0/1 overrides it.
    bool hugePageAllocator = true;
    std::size_t allocatorCacheBytes = 0; // 0 = min(1 GiB, RAM / 8)
};

struct RuntimeInfo {
    std::string blasName;     // "OpenBLAS 0.3.21 (SkylakeX)", "reference BLAS", ...
    bool referenceBlas = false;
    int threads = 1;
    std::string cpuCapability; // what ATen uses: "AVX2", "AVX512", ...
    bool cpuHasAvx512 = false;
    bool cpuHasAvx512Bf16 = false;
    bool hugePageAllocator = false;      // CpuAllocator installed
    std::size_t allocatorCacheBytes = 0; // its cache cap
    std::size_t mmapThresholdBytes = 0;  // malloc's fixed mmap threshold (0: glibc's adaptive one)
    std::size_t trimThresholdBytes = 0;  // free heap kept at its top (0: glibc's default, 128 KiB)
    double loadAverage = 0;              // 1-minute load average at start-up
};

// Sets environment variables that libraries read when they load
// (OPENBLAS_CORETYPE, ATEN_CPU_CAPABILITY) and re-executes the binary once so
// they take effect: libopenblas is loaded before main() runs. Returns only
// when no re-exec was needed (or it failed). Set STIPPLE_NO_REEXEC=1 to skip.
void prepareProcessEnvironment(int argc, char **argv, const RuntimeOptions &options = {});

// How much free memory malloc keeps at the top of its heaps before giving it
// back to the system (glibc's M_TRIM_THRESHOLD). Returns false if glibc
// refused. The bench's `--ab trim` switches it between steps.
bool setHeapTrimThreshold(std::size_t bytes);
constexpr std::size_t kHeapTrimThreshold = std::size_t(256) << 20;
constexpr std::size_t kGlibcDefaultTrimThreshold = std::size_t(128) << 10;

// Sets torch's thread count, installs the allocator and reports the BLAS in use.
RuntimeInfo configureRuntime(const RuntimeOptions &options = {});

// One line for logs: "BLAS: OpenBLAS ... | threads: 2 | ATen: AVX512 | allocator: ...".
std::string describeRuntime(const RuntimeInfo &info);

int physicalCoreCount();

// Whether the CPU runs Stipple's bfloat16 kernels: AVX-512 F, BW and VL, FMA
// and AVX512-BF16, the instruction sets they are compiled for (the bf16
// functions of AttentionKernelAvx512.cpp, Bf16KernelsAvx512.cpp). Each
// caller adds its own A/B switch.
bool cpuRunsBf16Kernels();

// An on/off environment switch: 1 for "1"/"on"/"true"/"yes", 0 for
// "0"/"off"/"false"/"no", -1 when unset or anything else.
int envSwitch(const char *name);

} // namespace stipple::core
