// torchsde 0.2.6 BrownianTree / BrownianInterval (halfway tree, no Levy
// area); see BrownianTree.h for the algorithm and its source.
#include "core/schedulers/BrownianTree.h"

#include "core/schedulers/SeedSequence.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace stipple::core {

namespace {

constexpr int kPoolSize = 24;   // diffusers/torchsde BrownianTree pool_size
constexpr int kRoundDigits = 6; // -int(log10(tol)), tol = 1e-6
// Cached interval increments. torchsde's LRU keeps 45; the values do not
// depend on the cache, a larger one only saves recomputation (a DPM++ SDE
// query splits into ~16 intervals): 128 latents of 64 KiB (SD 1.x 512x512)
// are 8 MiB.
constexpr std::size_t kCacheSize = 128;
// Depth limit of the dyadic tree: with a 1e-6 grid an interval of length L
// needs ~log2(L / 1e-6) levels; 60 also keeps spawn keys below 2^63.
constexpr int kMaxDepth = 60;

} // namespace

double BrownianTree::roundTime(double x)
{
    if (!std::isfinite(x))
        return x;
    // printf's %.*f is exact (round half to even on the binary value, like
    // CPython's dtoa-based float.__round__), strtod returns the nearest double.
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", kRoundDigits, x);
    return std::strtod(buf, nullptr);
}

BrownianTree::BrownianTree(double t0, double t1, std::uint64_t entropy, at::IntArrayRef shape,
                           at::ScalarType dtype)
    : m_entropy(entropy), m_shape(shape.begin(), shape.end()), m_dtype(dtype)
{
    TORCH_CHECK(t0 < t1, "BrownianTree: t0 (", t0, ") must be less than t1 (", t1, ")");
    Node root;
    root.start = roundTime(t0);
    root.end = roundTime(t1);
    // The root: SeedSequence(entropy, pool_size).generate_state(3) gives
    // (W, H, A) seeds; only W is used without Levy area. torchsde scales by
    // the unrounded interval length.
    const std::uint32_t seedW = SeedSequence(entropy, {}, kPoolSize).generateState(1)[0];
    root.w = randnSeeded(seedW) * std::sqrt(t1 - t0);
    m_nodes.push_back(root);
}

double BrownianTree::start() const { return m_nodes[0].start; }
double BrownianTree::end() const { return m_nodes[0].end; }

at::Tensor BrownianTree::randnSeeded(std::uint32_t seed) const
{
    // torch.Generator('cpu').manual_seed(seed); torch.randn(size, dtype, generator).
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(seed));
    return at::randn(m_shape, gen, at::TensorOptions().dtype(m_dtype));
}

void BrownianTree::splitExact(int node, double midway)
{
    Node &n = m_nodes[node];
    n.mid = roundTime(midway);
    if (n.parent >= 0) {
        const Node &p = m_nodes[n.parent];
        n.spawnKey = 2 * p.spawnKey + (n.isLeft ? 0 : 1);
        n.depth = p.depth + 1;
    }
    TORCH_CHECK(n.depth < kMaxDepth, "BrownianTree: interval tree deeper than ", kMaxDepth);
    n.seedW = SeedSequence(m_entropy, {n.spawnKey, static_cast<std::uint64_t>(n.depth)}, kPoolSize).generateState(1)[0];
    n.split = true;

    Node left, right;
    left.start = n.start;
    left.end = n.mid;
    left.parent = node;
    left.isLeft = true;
    right.start = n.mid;
    right.end = n.end;
    right.parent = node;
    right.isLeft = false;
    const int leftIndex = static_cast<int>(m_nodes.size());
    m_nodes.push_back(left); // invalidates n
    m_nodes.push_back(right);
    m_nodes[node].left = leftIndex;
    m_nodes[node].right = leftIndex + 1;
}

// torchsde _Interval._split with halfway_tree: split at the midpoint, then
// keep splitting the half that contains `point` until a midpoint equals it.
void BrownianTree::splitAt(int node, double point)
{
    for (;;) {
        splitExact(node, 0.5 * (m_nodes[node].end + m_nodes[node].start));
        const Node &n = m_nodes[node];
        if (point > n.mid)
            node = n.right;
        else if (point < n.mid)
            node = n.left;
        else
            return;
    }
}

// torchsde _Interval._loc_inner from the root: the canonical decomposition
// of [ta, tb] (both rounded, inside the node) into tree intervals, in order.
void BrownianTree::locate(int node, double ta, double tb, std::vector<int> &out)
{
    {
        const Node &n = m_nodes[node];
        if (ta == n.start && tb == n.end) {
            out.push_back(node);
            return;
        }
        if (!n.split)
            splitAt(node, ta == n.start ? tb : ta);
    }
    const Node &n = m_nodes[node];
    const double mid = n.mid;
    const int left = n.left, right = n.right;
    if (tb <= mid) {
        locate(left, ta, tb, out);
    } else if (ta >= mid) {
        locate(right, ta, tb, out);
    } else {
        locate(left, ta, mid, out);
        locate(right, mid, tb, out);
    }
}

void BrownianTree::cache(int node, const at::Tensor &w)
{
    Node &n = m_nodes[node];
    if (n.inLru)
        m_lru.erase(n.lruPos);
    else if (m_lru.size() >= kCacheSize) {
        Node &old = m_nodes[m_lru.front()];
        old.w = at::Tensor();
        old.inLru = false;
        m_lru.pop_front();
    }
    n.w = w;
    n.lruPos = m_lru.insert(m_lru.end(), node);
    n.inLru = true;
}

// torchsde _Interval._increment_and_space_time_levy_area without H: walk up
// to the nearest cached ancestor, then apply the Brownian bridge downwards.
at::Tensor BrownianTree::nodeIncrement(int node)
{
    std::vector<int> chain;
    int k = node;
    while (!m_nodes[k].w.defined()) {
        chain.push_back(k);
        k = m_nodes[k].parent;
    }
    at::Tensor w = m_nodes[k].w;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const Node &p = m_nodes[m_nodes[*it].parent];
        const Node &leftSibling = m_nodes[p.left];
        if (!m_nodes[*it].isLeft && leftSibling.w.defined()) {
            // torchsde computes the right child as W - W_left with the very
            // W_left its left sibling holds: reuse it instead of redrawing.
            w = w - leftSibling.w;
            cache(*it, w);
            continue;
        }
        const double hReciprocal = 1 / (p.end - p.start);
        const double leftDiff = p.mid - p.start;
        const double rightDiff = p.end - p.mid;
        // Same operation order as torchsde (float32 tensor x double scalar).
        at::Tensor mean = w * leftDiff * hReciprocal;
        const double var = leftDiff * rightDiff * hReciprocal;
        at::Tensor leftW = mean + randnSeeded(p.seedW) * std::sqrt(var);
        w = m_nodes[*it].isLeft ? leftW : w - leftW;
        cache(*it, w);
    }
    return w;
}

at::Tensor BrownianTree::increment(double ta, double tb)
{
    const double t0 = m_nodes[0].start, t1 = m_nodes[0].end;
    ta = std::min(std::max(ta, t0), t1);
    tb = std::min(std::max(tb, t0), t1);
    TORCH_CHECK(ta <= tb, "BrownianTree: query times ta=", ta, " and tb=", tb, " must respect ta <= tb");
    const double ra = roundTime(ta), rb = roundTime(tb);
    if (ta == tb || ra == rb)
        return at::zeros(m_shape, at::TensorOptions().dtype(m_dtype));
    std::vector<int> parts;
    locate(0, ra, rb, parts);
    at::Tensor w = nodeIncrement(parts[0]);
    if (parts.size() == 1)
        return w.clone();
    for (std::size_t i = 1; i < parts.size(); ++i)
        w = w + nodeIncrement(parts[i]);
    return w;
}

} // namespace stipple::core
