#include "core/common/Runtime.h"

#include "core/common/CpuAllocator.h"
#include "core/common/Log.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>

namespace stipple::core {
namespace {


bool cpuFlag(const char *flag)
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0) {
            const std::string needle = std::string(" ") + flag;
            const auto pos = line.find(needle);
            if (pos == std::string::npos)
                return false;
            const auto end = pos + needle.size();
            return end == line.size() || line[end] == ' ';
        }
    }
    return false;
}

// Which BLAS did the dynamic linker give libtorch? Debian's libtorch calls
// whatever libblas.so.3 the alternatives system points at.
std::string detectBlas(bool &reference)
{
    reference = false;
    using CharFn = char *(*)();
    if (auto config = reinterpret_cast<CharFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        std::string name = config();
        if (auto core = reinterpret_cast<CharFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename")))
            name += std::string(" core=") + core();
        return "OpenBLAS " + name;
    }
    if (dlsym(RTLD_DEFAULT, "bli_info_get_version_str"))
        return "BLIS";
    if (dlsym(RTLD_DEFAULT, "mkl_get_version"))
        return "MKL";
    // Look at what is mapped: the reference BLAS is /usr/lib/.../blas/libblas.so.3.
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        if (line.find("libblas.so") != std::string::npos) {
            reference = true;
            return "reference BLAS (netlib)";
        }
    }
    return "unknown BLAS";
}

std::size_t defaultCacheBytes()
{
    std::size_t cap = std::size_t(1) << 30;
    struct sysinfo si {};
    if (sysinfo(&si) == 0) {
        const std::size_t ram = static_cast<std::size_t>(si.totalram) * si.mem_unit;
        cap = std::min(cap, ram / 8);
    }
    return cap;
}

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

} // namespace

bool cpuRunsBf16Kernels()
{
    static const bool runs = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") &&
                             __builtin_cpu_supports("avx512bf16");
    return runs;
}

int physicalCoreCount()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    std::set<std::pair<int, int>> cores;
    int physId = 0;
    while (std::getline(in, line)) {
        if (line.rfind("physical id", 0) == 0)
            physId = std::atoi(line.substr(line.find(':') + 1).c_str());
        else if (line.rfind("core id", 0) == 0)
            cores.insert({physId, std::atoi(line.substr(line.find(':') + 1).c_str())});
    }
    if (!cores.empty())
        return static_cast<int>(cores.size());
    const unsigned n = std::thread::hardware_concurrency();
    return n ? static_cast<int>(n) : 1;
}

void prepareProcessEnvironment(int argc, char **argv, const RuntimeOptions &options)
{
    (void)argc;
    if (std::getenv("STIPPLE_NO_REEXEC") || std::getenv("STIPPLE_REEXECED"))
        return;
    bool changed = false;
    // OpenBLAS 0.3.21 takes Zen 4/5 for Haswell and uses AVX2 kernels: the
    // SkylakeX kernels are 2x faster there (../shared/docs/toolchain.md).
    if (!std::getenv("OPENBLAS_CORETYPE") && cpuFlag("avx512f")) {
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        changed = true;
    }
    // ATen ships AVX-512 kernels but defaults to AVX2; 1.5x on softmax and
    // element-wise ops. It changes reduction order (last bits) only.
    if (options.avx512Kernels && !std::getenv("ATEN_CPU_CAPABILITY") && cpuFlag("avx512f")) {
        setenv("ATEN_CPU_CAPABILITY", "avx512", 1);
        changed = true;
    }
    if (!changed)
        return;
    setenv("STIPPLE_REEXECED", "1", 1);
    execv("/proc/self/exe", argv);
    // exec failed: carry on with the defaults.
    logWarning(std::string("could not re-execute to apply BLAS settings: ") + std::strerror(errno));
}

int envSwitch(const char *name)
{
    const char *v = std::getenv(name);
    if (!v)
        return -1;
    const std::string s = v;
    if (s == "0" || s == "off" || s == "false" || s == "no")
        return 0;
    if (s == "1" || s == "on" || s == "true" || s == "yes")
        return 1;
    return -1;
}

RuntimeInfo configureRuntime(const RuntimeOptions &options)
{
    RuntimeInfo info;
    // torch counts cores, not processors, and picks 1 on this VM.
    int threads = options.threads;
    if (threads <= 0) {
        if (const char *env = std::getenv("STIPPLE_THREADS"))
            threads = std::atoi(env);
    }
    info.threads = threads > 0 ? threads : physicalCoreCount();
    at::set_num_threads(info.threads);
    // The inter-op pool runs parallelRange's workers (ParallelRange.h) beside
    // the calling thread where libtorch does not use libgomp (there they run
    // on ATen's own OpenMP team): threads - 1 of them.
    at::set_num_interop_threads(std::max(1, info.threads - 1));
    info.blasName = detectBlas(info.referenceBlas);
    const int allocatorEnv = envSwitch("STIPPLE_HUGEPAGE_ALLOCATOR");
    const bool wantAllocator = allocatorEnv >= 0 ? allocatorEnv == 1 : options.hugePageAllocator;
    if (wantAllocator) {
        CpuAllocatorOptions ao;
        ao.cacheCapBytes = options.allocatorCacheBytes ? options.allocatorCacheBytes : defaultCacheBytes();
        if (const char *env = std::getenv("STIPPLE_ALLOCATOR_CACHE_MB"); env && *env)
            ao.cacheCapBytes = std::size_t(std::max(0L, std::atol(env))) << 20;
        const CpuAllocator *allocator = installCpuAllocator(ao);
        info.hugePageAllocator = true;
        info.allocatorCacheBytes = allocator->options().cacheCapBytes;
        // glibc raises its mmap threshold to the size of each mmapped block
        // freed (up to 32 MiB), after which blocks of up to that size come
        // from the heap, whose freed memory stays resident. Which blocks land
        // there depended on the order of frees: a bf16 512² generation peaked
        // at 3179-3197 or 3345-3360 MiB from run to run (the 3.5 GB target
        // is 3338 MiB; docs/performance.md, session 9). So the threshold is
        // fixed, at the size from which the allocator above takes over: the
        // tensors below it come from the heap and reuse its memory. Fixed at
        // 1 MiB (session 9), every 1-2 MiB tensor (SD's level-2 activations
        // at 256², 2 x 256 x 640 floats) was a fresh mapping faulted in page by page:
        // fp32 256² step 1.57-1.64 s against 1.05-1.06 s at 2 MiB (session
        // 10). Left alone when MALLOC_MMAP_THRESHOLD_ is set.
        const int threshold = static_cast<int>(allocator->options().largeThreshold);
        if (!std::getenv("MALLOC_MMAP_THRESHOLD_") && mallopt(M_MMAP_THRESHOLD, threshold) == 1)
            info.mmapThresholdBytes = static_cast<std::size_t>(threshold);
        // A fixed mmap threshold also fixes glibc's trim threshold at 128 KiB
        // (its adaptive rule would have raised it with the mmap threshold).
        // Then almost every free of a tensor at the heap's top gave the memory
        // back, and the next allocation faulted it in again page by page
        // (4 KiB pages, 2.6-2.8 ns/byte on this VM): a 1.3 MB bf16 q/k/v output
        // made at::linear 2048x320->320 take 2.76 ms instead of 0.74 ms
        // (`stipple-bench --dtype bf16 --stages linear`, session 11). Left
        // alone when MALLOC_TRIM_THRESHOLD_ is set.
        if (!std::getenv("MALLOC_TRIM_THRESHOLD_") && setHeapTrimThreshold(kHeapTrimThreshold))
            info.trimThresholdBytes = kHeapTrimThreshold;
    } else {
        uninstallCpuAllocator();
    }
    info.cpuHasAvx512 = cpuFlag("avx512f");
    info.cpuHasAvx512Bf16 = cpuFlag("avx512_bf16");
    const char *cap = std::getenv("ATEN_CPU_CAPABILITY");
    info.cpuCapability = cap ? cap : "default (AVX2)";
    {
        std::ifstream in("/proc/loadavg");
        in >> info.loadAverage;
    }
    // With more runnable threads than cores every parallel region waits for
    // descheduled workers: measured 10-25x slower batched small GEMMs at a
    // load of 12 on 2 cores (docs/performance.md).
    if (info.loadAverage > 1.5 * physicalCoreCount())
        logWarning("the system is busy (load average " + std::to_string(info.loadAverage).substr(0, 5) +
                   " on " + std::to_string(physicalCoreCount()) +
                   " cores): generation will be much slower than on an idle machine");
    if (info.referenceBlas)
        logWarning("torch is using the reference BLAS: matrix products will be 30-60x slower. "
                   "Install libopenblas0-openmp (packaging/setup.sh does).");
    // prepareProcessEnvironment keeps an OPENBLAS_CORETYPE the user set; say
    // so when it holds OpenBLAS's AVX-512 kernels back on a CPU that has them
    // (a shell that exported Haswell was seen on the development VM).
    if (const char *core = std::getenv("OPENBLAS_CORETYPE");
        core && info.cpuHasAvx512 && std::string(core).find("Skylake") == std::string::npos &&
        std::string(core).find("Cooperlake") == std::string::npos &&
        std::string(core).find("SapphireRapids") == std::string::npos)
        logWarning(std::string("OPENBLAS_CORETYPE=") + core +
                   " is set: OpenBLAS uses that core's kernels, not its AVX-512 ones on this CPU. Unset it "
                   "to let Stipple choose SkylakeX.");
    logInfo(describeRuntime(info));
    return info;
}

bool setHeapTrimThreshold(std::size_t bytes)
{
    return mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(bytes, 1u << 30))) == 1;
}

std::string describeRuntime(const RuntimeInfo &info)
{
    return "BLAS: " + info.blasName + " | torch threads: " + std::to_string(info.threads) +
           " | ATen CPU capability: " + info.cpuCapability +
           (info.cpuHasAvx512Bf16 ? " | bf16: yes" : " | bf16: no") +
           (info.hugePageAllocator
                ? " | allocator: huge pages >= 2 MiB, cache " + mib(info.allocatorCacheBytes) +
                      (info.mmapThresholdBytes ? ", malloc mmap threshold " + mib(info.mmapThresholdBytes) : "") +
                      (info.trimThresholdBytes ? ", trim threshold " + mib(info.trimThresholdBytes) : "")
                : " | allocator: default") +
           " | load average: " + std::to_string(info.loadAverage).substr(0, 5);
}

} // namespace stipple::core
