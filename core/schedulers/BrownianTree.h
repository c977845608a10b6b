// BrownianTree: a Brownian motion W on [t0, t1] whose increments are a
// deterministic function of an integer entropy, reproducing torchsde 0.2.6's
// `torchsde.BrownianTree` (a `BrownianInterval` with halfway_tree=True, no
// Levy area) with the parameters diffusers 0.25's DPMSolverSDEScheduler
// uses: tol 1e-6, pool_size 24 (its LRU cache size, 45, changes no value;
// we keep 128 intervals). The noise of the DPM++ SDE sampler comes from it
// (SigmaSteppers.cpp).
//
// The algorithm (torchsde/_brownian/brownian_interval.py, derived.py):
//  * every time is rounded to 6 decimals (Python round(x, 6), tol = 1e-6);
//  * the root interval [t0, t1] holds W = randn(seed_W) * sqrt(t1 - t0) with
//    seed_W = SeedSequence(entropy, pool_size 24).generate_state(..)[0];
//  * intervals split only at their (rounded) midpoint (the dyadic "halfway"
//    tree); a split node with spawn key k and depth d (root: 0, 0; children:
//    2k + {0 left, 1 right}, d + 1) gets seed_W =
//    SeedSequence(entropy, spawn_key=(k, d), pool_size 24).generate_state(4)[0];
//  * a child's increment is the Brownian bridge of its parent (start s,
//    midpoint m, end e, increment W, noise Z = randn(parent's seed_W)):
//      W_left = (m - s) * W / (e - s) + sqrt((m - s)(e - m)/(e - s)) * Z,
//      W_right = W - W_left;
//  * a query [ta, tb] is clamped to [t0, t1], split into the canonical
//    dyadic intervals (creating them on demand) and their increments summed
//    left to right.
// Every random normal is torch.randn(shape, dtype) from a fresh CPU generator
// manual_seed(seed_W), so increments are independent of query order and of
// the cache. Verified against torchsde by TestBrownianTree and, through the
// sampler, TestSchedulerParity.
// Thread-safety: not thread-safe (queries grow the tree and the cache); one
// instance per sampling run.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <list>
#include <vector>

namespace stipple::core {

class BrownianTree {
public:
    // torchsde.BrownianTree(t0, w0 = zeros(shape, dtype), t1, entropy=entropy,
    // tol=1e-6, pool_size=24). Requires t0 < t1 (TORCH_CHECK, c10::Error).
    BrownianTree(double t0, double t1, std::uint64_t entropy, at::IntArrayRef shape,
                 at::ScalarType dtype = at::kFloat);

    // W(tb) - W(ta) (torchsde `tree(ta, tb)`), a new CPU tensor of the tree's
    // shape and dtype. Times outside [t0, t1] are clamped to it (torchsde
    // warns and clamps). Requires ta <= tb after clamping (c10::Error).
    // Zero for ta == tb, and also when both round to the same 1e-6 grid
    // point (torchsde recurses without end there).
    at::Tensor increment(double ta, double tb);

    std::uint64_t entropy() const { return m_entropy; }
    double start() const; // t0 rounded to 6 decimals
    double end() const;   // t1 rounded to 6 decimals

    // Python round(x, 6): x correctly rounded to 6 decimals (ties to even on
    // the exact binary value), as the nearest double. Exposed for tests.
    static double roundTime(double x);

private:
    struct Node {
        double start = 0, end = 0, mid = 0;
        int parent = -1, left = -1, right = -1;
        bool isLeft = false;
        bool split = false;
        std::uint64_t spawnKey = 0;
        int depth = 0;
        std::uint32_t seedW = 0;  // set when split: the seed of the bridge noise of the children
        at::Tensor w;             // cached increment (always set for the root)
        std::list<int>::iterator lruPos;
        bool inLru = false;
    };

    at::Tensor randnSeeded(std::uint32_t seed) const;
    void splitAt(int node, double point);
    void splitExact(int node, double midway);
    void locate(int node, double ta, double tb, std::vector<int> &out);
    at::Tensor nodeIncrement(int node);
    void cache(int node, const at::Tensor &w);

    std::uint64_t m_entropy = 0;
    std::vector<int64_t> m_shape;
    at::ScalarType m_dtype = at::kFloat;
    std::vector<Node> m_nodes; // m_nodes[0] is the root
    std::list<int> m_lru;      // cached non-root nodes, least recently stored first
};

} // namespace stipple::core
