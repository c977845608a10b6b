// Per-operator wall-time profile of the calling thread, built on ATen's
// RecordFunction callbacks: only top-level operators (those called by our
// modules, not the ones they call internally) are timed, so the totals add
// up to the wall time spent in ATen. Operators are also grouped into
// categories (convolution, attention, linear, normalisation, activation,
// element-wise, copies) for the performance report.
// Thread-safety: one OpProfiler at a time, used from one thread; it times
// only the thread that constructed it (intra-op worker threads are inside the
// top-level operator's time).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stipple::bench {

struct OpTotal {
    std::string name;
    double seconds = 0;
    std::int64_t calls = 0;
};

class OpProfiler {
public:
    OpProfiler();  // starts recording
    ~OpProfiler(); // stops recording
    OpProfiler(const OpProfiler &) = delete;
    OpProfiler &operator=(const OpProfiler &) = delete;

    void reset();
    // Sorted by time, largest first.
    std::vector<OpTotal> byOperator() const;
    std::vector<OpTotal> byCategory() const;
    double totalSeconds() const;

    // "aten::baddbmm" -> "attention (baddbmm/bmm/softmax)", ...
    static std::string categoryOf(const std::string &op);

private:
    std::uint64_t m_handle = 0;
};

} // namespace stipple::bench
