// A 2-D convolution module with torch::nn::Conv2d's parameters ("weight",
// "bias"), options and forward (zero padding only, as every SD layer), whose
// random initialisation can be skipped (ParameterInit.h). With init enabled it
// draws exactly what torch::nn::Conv2d draws, in the same order, so training
// runs are unchanged.
//
// prepareForInference() packs the weight once into oneDNN's blocked layout
// and frees the plain copy. at::conv2d reorders a plain weight on every call,
// which at SD's 1280-channel 8x8 and 4x4 levels costs more than the
// convolution itself (Debian's torch 1.13, 2 threads, CFG batch 2: fp32 c1280
// 8x8 103 -> 324 GFLOP/s, 4x4 28 -> 203; bf16 8x8 360 -> 910; whole SD 1.5
// step at 256² 1.20x fp32, 1.24x bf16), and bit-identical. Freeing the plain
// copy keeps the memory of a prepared model at one copy of the weights.
// Float32 3x3 layers go to DnnlConvolution instead, which holds the weight
// once in oneDNN's blocked layout and runs Winograd where it pays.
// A 1x1 layer marked as a token projection (Transformer2D's proj_in/out in
// SD 1.x) runs in float32 as a DnnlMatmul instead: on tokens it is the same
// product, at the GEMM kernel's speed (see setTokenProjection).
// A prepared module is for inference in its dtype only (grad mode off);
// STIPPLE_CONV_PREPACK=0 disables the preparation.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/DeferredPacking.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/DnnlMatmul.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace stipple::core {

class Conv2dImpl : public torch::nn::Cloneable<Conv2dImpl> {
public:
    explicit Conv2dImpl(torch::nn::Conv2dOptions options);
    void reset() override;
    at::Tensor forward(const at::Tensor &x);

    // Packs the weight for `dtype` (float32 or bfloat16; default: the
    // weight's own), converting it on the way, and releases the plain one
    // (a mapped file view's pages too, under a MappedFilesScope); `weight`
    // becomes an empty tensor and the bias is converted. No-op when oneDNN is
    // unavailable or STIPPLE_CONV_PREPACK=0. Returns whether it was prepared.
    // `scratch`: a conversion buffer shared across layers (grown as needed);
    // `workspace`: the DnnlConvolution buffers shared across layers (null:
    // one of the layer's own).
    bool prepareForInference(std::optional<at::ScalarType> dtype = std::nullopt, at::Tensor *scratch = nullptr,
                             std::shared_ptr<DnnlConvolution::Workspace> workspace = nullptr);
    // Only a float32 layer that DnnlConvolution suits: hands its weight to
    // one (sharing `workspace`) and frees the plain copy; other layers keep
    // their plain weights (at::conv2d, either memory format). For the VAE,
    // whose other layers run faster on channels_last with plain weights.
    // With `convertScratch`, a weight in another float dtype (a float16 file
    // view) is taken too, converted to float32 through that buffer (shared
    // across layers, grown as needed): for a module that computes in float32.
    bool prepareDnnlConvolution(std::shared_ptr<DnnlConvolution::Workspace> workspace = nullptr,
                                at::Tensor *convertScratch = nullptr);
    bool preparedForInference() const { return m_packed.defined() || m_dnnl || m_matmul; }
    // For inference in `packing->dtype()`: keeps the weight as given (a view
    // of the checkpoint file) and packs it during the model's first forwards
    // (DeferredPacking.h), with the same result as prepareForInference().
    // `weight` becomes an empty tensor (so a dtype conversion of the module
    // skips it) and the bias is converted now. Returns whether it deferred:
    // not when prepareForInference() would not pack either.
    bool deferPacking(const std::shared_ptr<DeferredPacking> &packing);
    DeferredPacking *deferredPacking() const { return m_deferred.get(); }
    // The layer runs through DnnlConvolution (float32 3x3, Winograd allowed).
    DnnlConvolution *dnnlConvolution() const { return m_dnnl.get(); }
    // For a 1x1 layer whose caller holds its input as tokens ([N, H·W, C],
    // channels last) and can use them directly: prepareForInference() in
    // float32 then makes a DnnlMatmul of the weight, which dnnlMatmul()
    // returns. forward() stays correct for any input (it returns channels_last).
    // Why: oneDNN's 1x1 convolution ran at 0.37-1.03x OpenBLAS on these
    // shapes (docs/performance.md, session 8) and DnnlMatmul at about 2x
    // (session 10): per fp32 256² step, torch's convolutions 0.19 -> 0.067 s.
    void setTokenProjection(bool on) { m_tokenProjection = on; }
    DnnlMatmul *dnnlMatmul() const { return m_matmul.get(); }
    // Whether the layer runs as a DnnlMatmul on tokens, now or once its
    // deferred packing is done: forwardTokens() then takes the caller's
    // tokens ([N, H·W, C_in] of an HxW map -> [N, H·W, C_out]) as they are,
    // so a deferred layer computes exactly what its packed self will.
    bool runsOnTokens() const;
    at::Tensor forwardTokens(const at::Tensor &tokens, std::int64_t h, std::int64_t w);

    torch::nn::Conv2dOptions options;
    at::Tensor weight;
    at::Tensor bias;

private:
    // Float32 aside, a weight of these sizes with the layer's options suits
    // DnnlConvolution on this CPU.
    bool dnnlSuits(at::IntArrayRef weightSizes) const;
    // m_dnnl, m_matmul or m_packed from `plain` (in `target`): what
    // prepareForInference() keeps. `room`: memory m_matmul may pack into
    // (DnnlMatmul's `storage`).
    void packFrom(const at::Tensor &plain, at::ScalarType target,
                  std::shared_ptr<DnnlConvolution::Workspace> workspace, const at::Tensor &room = {});
    // The forward of a prepared layer.
    at::Tensor forwardPrepared(const at::Tensor &x);
    // run() on the packed layer: a deferred one packs for this call only
    // (during the model's first forward) or for good.
    at::Tensor runPacked(const std::function<at::Tensor()> &run);
    void packDeferred();
    bool pointwiseTokenProjection() const; // a token projection DnnlMatmul can take
    // For this call only: m_dnnl over the deferred weight, blocked from the
    // file a group of output channels at a time while it runs
    // (DeferredPacking::streamedConvolution), when the layer computes in
    // float32 and suits DnnlConvolution, as packFrom would decide.
    bool adoptStreamedForThisCall();
    // m_dnnl from `plain` (float32) when it suits and oneDNN accepts it.
    bool adoptDnnlConvolution(const at::Tensor &plain, std::shared_ptr<DnnlConvolution::Workspace> workspace);
    // m_matmul from `plain` (float32) for a token projection, when oneDNN
    // accepts it; packed into `room` when that is large enough.
    bool adoptDnnlMatmul(const at::Tensor &plain, const at::Tensor &room = {});
    at::Tensor m_packed;
    std::shared_ptr<DnnlConvolution> m_dnnl;
    std::shared_ptr<DnnlMatmul> m_matmul;
    bool m_tokenProjection = false;
    std::shared_ptr<DeferredPacking> m_deferred; // deferPacking, until packed for good
    at::Tensor m_deferredWeight;                 // the weight as given, meanwhile
};
TORCH_MODULE(Conv2d);

// Whether prepareForInference() packs at all: oneDNN is built in and enabled,
// and STIPPLE_CONV_PREPACK is not 0.
bool convolutionPackingEnabled();

// prepareDnnlConvolution() on every Conv2d inside `module`, all sharing
// `workspace` (configured by the caller) and, with `convertToFloat`, one
// conversion buffer; returns how many took it.
int prepareDnnlConvolutions(torch::nn::Module &module, const std::shared_ptr<DnnlConvolution::Workspace> &workspace,
                            bool convertToFloat = false);

// deferPacking(packing) on every Conv2d inside `module`; returns how many.
int deferConvolutionPacking(torch::nn::Module &module, const std::shared_ptr<DeferredPacking> &packing);

// Returns the DnnlConvolution workspaces of the Conv2d inside `module` to the
// OS (those of deferred layers too, with their DeferredPacking's idle pages).
void releaseDnnlWorkspaces(torch::nn::Module &module);

// How many Conv2d inside `module` run through a DnnlConvolution, and how
// many (token projections) through a DnnlMatmul.
int countDnnlConvolutions(torch::nn::Module &module);
int countDnnlMatmulConvolutions(torch::nn::Module &module);

// prepareForInference(dtype) on every Conv2d inside `module`; returns how many.
// The conversion scratch is sized once for the largest weight to convert; a
// caller that prepares more layers after these (the linear ones) may pass
// its own `scratch` to keep and reuse it.
int prepareConvolutionsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype = std::nullopt,
                                    at::Tensor *scratch = nullptr);

} // namespace stipple::core
