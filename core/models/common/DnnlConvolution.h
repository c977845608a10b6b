// A float32 3x3 convolution (stride 1 or 2, padding 1, one group) run
// through oneDNN's own API, with its weight held once in oneDNN's
// 16x16-blocked layout (or, streamed, blocked group by group as it runs),
// so that each input shape can take Winograd or the direct kernel (stride
// 2: direct only, as oneDNN's Winograd has none). Stride 2 is here for the
// UNet's downsamplers: through torch's packed kernel, a layer packed for
// one call (DeferredPacking) made two float32 copies of its weight
// (to_mkldnn, then the reorder), 2 x 59 MB of fresh memory for the
// 1280-channel one; here it streams from the file like the stride-1
// layers.
//
// Why: torch 1.13's mkldnn_convolution always asks oneDNN for the direct
// algorithm. oneDNN 2.6 (the libdnnl that Debian's libtorch loads; we link the
// same library) also has Winograd F(4x4, 3x3) for AVX-512, which does a
// quarter of the multiplications (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). Against torch's packed kernel, 2
// threads, CFG batch 2: 2.0-3.0x on SD 1.5's layers at 32x32 and 64x64,
// 1.1-1.3x at 16x16 (stipple-bench --stages conv; table in
// docs/performance.md, session 9); at 8x8 and below it loses (1280 at 8x8:
// 15 -> 34 ms), so small maps keep the direct kernel on the same weight. Winograd
// runs in oneDNN's "training" mode, which transforms the weight on each call
// into the scratchpad: the pre-transformed weight would be 4x the size (6x6
// per 3x3 kernel) and would not fit the memory targets.
// Accuracy: the transforms change the rounding; against float64 the error is
// of the order of float32 noise (test_dnnl_convolution bounds it).
//
// bfloat16 layers stay on torch's packed kernel: the same class run in bf16
// (nhwc activations, oneDNN's own weight layout) was 1.0-1.6x per layer and
// no faster per step (bf16 256²: 3x3 layers 0.53-0.58 s against 0.55-0.57 s,
// stipple-bench --profile, session 9), so it was not kept.
//
// STIPPLE_DNNL_CONV=0 leaves every convolution to torch's packed kernel
// (A/B runs).
// Errors from oneDNN surface as c10::Error.
// Thread-safety: one thread at a time across all instances that share a
// workspace (per-shape plans are cached per instance).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace stipple::core {

class DnnlConvolution {
public:
    enum class Algorithm { Direct, Winograd };

    // Buffers shared by the layers of one model, used one layer at a time:
    // the blocked copies of input and output and oneDNN's scratchpad. Each
    // grows when a request exceeds it, and stays: without shrinkToFit,
    // straight to its ceiling (source and destination to maxBandBytes, the
    // scratchpad to Winograd's 300 MiB cap), which maps memory but touches
    // only what layers write. Why: Winograd's scratchpads
    // differ per layer (68-290 MB at 512²); as tensors of their own they
    // missed the allocator's size-bucketed cache and faulted in fresh memory
    // on every call, which cancelled the whole gain (fp32 512² step 8.25 s
    // without Winograd, 8.73 s with; peak RSS +950 MiB).
    // Maps whose blocked input and output would exceed maxBandBytes run in
    // bands of rows (the scratchpad's tile buffers grow with the band too:
    // about 2.25x its bytes). The VAE's last level at 512² (128 channels,
    // 512x512) would otherwise need 268 MB of copies and more scratch,
    // beyond what the bf16 memory target leaves.
    // shrinkToFit: a buffer more than twice the current layer's need is
    // replaced by a smaller one, for models whose needs only fall along the
    // way (the VAE decoder: 512-channel layers first, whose Winograd scratch
    // holds 38 MB of transformed weights, then the 512x512 maps, where the
    // decode's memory peaks). Not for the UNet, whose needs go down and up.
    //
    // groupScratchBytes: a Winograd layer whose scratch would exceed it
    // splits its output channels into groups (whole blocks of 16), run one
    // after another on the same blocked input, each transforming only its
    // share of the weight. The scratch shrinks with the group; the work does
    // not grow (only the input transform repeats, small beside the
    // products). At 256² SD 1.5's 1280 -> 1280 layer at 16x16 needed 242 MiB
    // of scratch, faulted in during the first step and held after; in eight
    // groups, 41 MiB. At 512² the largest need is now 138 MiB (960 -> 320
    // at 64x64, where a halving would save under a quarter), and layers
    // whose single-group scratch passed the 300 MiB cap (2560 -> 1280 at
    // 16x16: 16 groups) run Winograd instead of the direct kernel.
    struct Workspace {
        at::Tensor source, destination, scratch;
        std::int64_t maxBandBytes = std::int64_t(48) << 20;
        std::int64_t groupScratchBytes = std::int64_t(64) << 20;
        bool shrinkToFit = false;
        // Returns the buffers to the OS; they grow again at the next use.
        void release();
        // The most scratch any layer's plan needs (Winograd's is capped
        // here; larger layers run the direct kernel): a scratch buffer this
        // large is never replaced.
        static std::size_t scratchCeiling();
    };

    // Built with oneDNN's headers and the CPU runs its AVX-512 Winograd kernel.
    static bool available();
    // Whether STIPPLE_DNNL_CONV allows this class at all (it is not 0).
    static bool enabled();
    // Whether a float32 weight of these sizes with these options is handled
    // here: 3x3, stride 1 or 2 (the same along both axes), padding 1,
    // dilation 1, one group, both channel counts multiples of 16 (oneDNN's
    // block).
    static bool suits(at::IntArrayRef weightSizes, at::IntArrayRef stride, at::IntArrayRef padding,
                      at::IntArrayRef dilation, std::int64_t groups);

    // `weight`: float32 [out, in, 3, 3] (any strides); `bias`: float32 [out]
    // or undefined. Both are copied. `workspace`: shared with the model's
    // other layers (null: one of its own). `stride`: 1 or 2.
    DnnlConvolution(const at::Tensor &weight, const at::Tensor &bias,
                    std::shared_ptr<Workspace> workspace = nullptr, std::int64_t stride = 1);

    // The weight's layout, oneDNN's OIhw16i16o, keeps each block of 16
    // output channels in one contiguous run of memory, laid out as the
    // blocked weight of those channels alone. So a weight can be blocked a
    // few output channels at a time, from a buffer small enough to stay in
    // cache. The bytes of an [out, in, 3, 3] weight in that layout:
    static std::size_t blockedWeightBytes(std::int64_t out, std::int64_t in);
    // Writes output channels [o0, o0 + rows.size(0)) of such a weight into
    // `blocked` (blockedWeightBytes(out, in) bytes for a weight of `out`
    // channels: the whole layer's, or a streamed group's with o0 counted
    // from the group's first). `rows`: float32 [k, in, 3, 3], contiguous; o0
    // and k multiples of 16.
    static void blockRows(const at::Tensor &rows, std::int64_t o0, void *blocked);

    // A layer whose weight is blocked while it runs, one group of output
    // channels at a time, into `buffer` (kept referenced), just before the
    // group's products read it. DeferredPacking runs a layer packed for one
    // call so: the file's float16 goes a group at a time into a few MiB the
    // layers share, so the first step writes no whole float32 copy of a
    // weight (SD 1.5's largest is 118 MB, all of it fresh memory there).
    // fill(o0, k, dst) writes output channels [o0, o0 + k) to `dst` as the
    // blocked weight of those k channels alone (blockRows from 0); k is a
    // multiple of 16. Groups: the fewest that keep one within `buffer`
    // (which must hold one block of 16), more where Winograd's scratch
    // bound asks (Workspace::groupScratchBytes). A map run in bands fills
    // each group once per band (a layer in one group, once). The algorithm
    // is the one the whole weight would take, and the results are the same
    // bits as that layer's: a group's outputs take the same sums in the
    // same order (test_dnnl_convolution checks it, Winograd and direct).
    // The filler, and whatever it refers to, must outlive the layer.
    using RowFiller = std::function<void(std::int64_t o0, std::int64_t k, void *dst)>;
    struct Streamed {};
    DnnlConvolution(Streamed, RowFiller fill, const at::Tensor &buffer, std::int64_t out, std::int64_t in,
                    const at::Tensor &bias, std::shared_ptr<Workspace> workspace = nullptr, std::int64_t stride = 1);
    ~DnnlConvolution();
    DnnlConvolution(const DnnlConvolution &) = delete;
    DnnlConvolution &operator=(const DnnlConvolution &) = delete;

    // x: float32 [N, in, H, W], contiguous or channels_last; the result
    // ([N, out, (H - 1) / stride + 1, (W - 1) / stride + 1]) has x's memory
    // format.
    at::Tensor forward(const at::Tensor &x);

    // The algorithm forward() uses for this input shape, and in how many
    // bands of rows. setMaxBandBytes sets the workspace's bound (for every
    // layer sharing it).
    Algorithm algorithmFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast = false);
    int bandsFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast = false);
    // Into how many groups of output channels (Workspace::groupScratchBytes).
    int groupsFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast = false);
    void setMaxBandBytes(std::int64_t bytes);
    // Returns the workspace's buffers (shared with the other layers) to the
    // OS; they grow again on the next forward(). For the UNet's, after the
    // denoising loop: its scratch (up to 300 MB) is not needed by the decode.
    void releaseWorkspace();

private:
    // What both constructors share: channel counts and stride checked, bias
    // copied.
    void init(std::int64_t out, std::int64_t in, const at::Tensor &bias, std::shared_ptr<Workspace> workspace,
              std::int64_t stride);

    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace stipple::core
