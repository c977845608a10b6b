#include "core/train/InpaintingExamples.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace stipple::core {
namespace {

struct Box {
    int x0, y0, x1, y1; // half-open
};

// The drawn shapes reach 1.25 radii from the placement centre (the
// triangle's lowest corner, core/synth/ShapeDrawing.cpp); plus the
// antialiased edge.
Box extentOf(const shapes::ObjectPlacement &p)
{
    const float e = 1.3f * p.radius + 2.0f;
    return {int(std::floor(p.x - e)), int(std::floor(p.y - e)), int(std::ceil(p.x + e)), int(std::ceil(p.y + e))};
}

Image maskOf(const Box &b, int size)
{
    Image m = Image::blank(size, size, 1);
    const int x0 = std::clamp(b.x0, 0, size), x1 = std::clamp(b.x1, x0, size);
    for (int y = std::max(0, b.y0); y < std::min(size, b.y1); ++y)
        std::fill(m.row(y) + x0, m.row(y) + x1, std::uint8_t(255));
    return m;
}

} // namespace

InpaintingExample inpaintingExample(const shapes::Sample &sample, int size, std::uint64_t seed)
{
    std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
    auto uniform = [&rng] { return float(rng() % 1000000) / 1e6f; };
    auto chance = [&](float p) { return uniform() < p; };
    auto between = [&](int lo, int hi) { return lo + int(rng() % std::uint64_t(std::max(1, hi - lo + 1))); };

    // Whole-picture captions name every object, a context object too.
    const std::string wholeCaption =
        sample.contextObject ? shapes::SyntheticShapes::caption(sample.scene) : sample.caption;
    InpaintingExample ex;
    const float mode = uniform();
    if (mode < 0.25f || sample.scene.objects.empty()) {
        ex.mask = maskOf({0, 0, size, size}, size);
        ex.caption = wholeCaption;
        return ex;
    }
    if (mode < 0.85f) {
        const size_t target = rng() % sample.scene.objects.size();
        const Box e = extentOf(sample.placements[target]);
        // The halves of the picture that hold the whole object.
        const int h = size / 2;
        std::vector<Box> halves;
        if (e.x1 <= h)
            halves.push_back({0, 0, h, size});
        if (e.x0 >= h)
            halves.push_back({h, 0, size, size});
        if (e.y1 <= h)
            halves.push_back({0, 0, size, h});
        if (e.y0 >= h)
            halves.push_back({0, h, size, size});
        Box b;
        if (!halves.empty() && chance(0.5f)) {
            b = halves[rng() % halves.size()];
        } else {
            const int m = size / 20, mm = size / 4;
            b = {e.x0 - between(m, mm), e.y0 - between(m, mm), e.x1 + between(m, mm), e.y1 + between(m, mm)};
        }
        ex.mask = maskOf(b, size);
        shapes::SceneSpec only = sample.scene;
        only.objects = {sample.scene.objects[target]};
        shapes::CaptionParts parts;
        parts.size = chance(0.5f);
        parts.position = chance(0.5f);
        parts.background = chance(0.3f);
        parts.americanSpelling = chance(0.3f);
        ex.caption = shapes::SyntheticShapes::caption(only, parts);
        return ex;
    }
    const int w = between(size / 4, size * 3 / 4), hgt = between(size / 4, size * 3 / 4);
    const int x0 = between(0, size - w), y0 = between(0, size - hgt);
    ex.mask = maskOf({x0, y0, x0 + w, y0 + hgt}, size);
    ex.caption = wholeCaption;
    return ex;
}

} // namespace stipple::core
