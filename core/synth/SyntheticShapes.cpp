#include "core/synth/SyntheticShapes.h"

#include "core/synth/ShapeDrawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace stipple::core::shapes {
namespace {

// splitmix64: decorrelates (seed, index) pairs into independent RNG seeds.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

cv::Scalar toScalar(int colour)
{
    const auto &c = kColours[colour];
    return cv::Scalar(c.r, c.g, c.b); // the Mat is RGB
}

// Colours that are too close to be told apart as object vs background.
bool clash(int a, int b)
{
    return a == b;
}

// Two objects this far apart on the 3x3 grid (a corner or edge cell away)
// do not overlap at the small size.
bool farApart(Position a, Position b)
{
    const auto &pa = kPositions[int(a)], &pb = kPositions[int(b)];
    return std::max(std::abs(pa.x - pb.x), std::abs(pa.y - pb.y)) >= 0.45f;
}

} // namespace

SyntheticShapes::SyntheticShapes(std::uint64_t seed, DatasetOptions options)
    : m_seed(seed), m_options(options)
{
}

SceneSpec SyntheticShapes::scene(std::uint64_t index) const
{
    std::mt19937_64 rng(mix(m_seed * 0x100000001b3ULL + index));
    auto pick = [&rng](int n) { return int(rng() % std::uint64_t(n)); };
    auto chance = [&rng](float p) { return float(rng() % 1000000) / 1e6f < p; };

    SceneSpec sc;
    sc.background = pick(int(kColours.size()));
    if (chance(m_options.gradientProbability)) {
        do {
            sc.gradientTo = pick(int(kColours.size()));
        } while (sc.gradientTo == sc.background);
    }
    const int count = chance(m_options.twoObjectProbability) ? 2 : 1;
    std::set<int> usedPositions;
    for (int k = 0; k < count; ++k) {
        ShapeSpec s;
        s.shape = Shape(pick(int(Shape::Count)));
        do {
            s.colour = pick(int(kColours.size()));
        } while (clash(s.colour, sc.background) || (sc.gradientTo >= 0 && clash(s.colour, sc.gradientTo)));
        s.size = Size(pick(int(Size::Count)));
        int pos;
        for (;;) {
            pos = pick(int(Position::Count));
            // Two objects sit on opposite halves (corners/edges, never the
            // centre) so they never overlap.
            if (count == 2 && pos == int(Position::Centre))
                continue;
            if (k == 1 && !farApart(Position(*usedPositions.begin()), Position(pos)))
                continue;
            break;
        }
        usedPositions.insert(pos);
        s.position = Position(pos);
        if (k == 1)
            s.size = Size::Small;
        sc.objects.push_back(s);
    }
    if (count == 2)
        sc.objects[0].size = Size::Small;
    return sc;
}

std::string SyntheticShapes::caption(const SceneSpec &sc, CaptionParts parts)
{
    std::string text;
    for (size_t i = 0; i < sc.objects.size(); ++i) {
        const auto &o = sc.objects[i];
        if (i > 0)
            text += " and ";
        text += "a ";
        if (parts.size)
            text += std::string(kSizeNames[int(o.size)]) + " ";
        text += std::string(kColours[o.colour].name) + " " + kShapeNames[int(o.shape)];
        if (parts.position)
            text += parts.americanSpelling && o.position == Position::Centre
                        ? std::string(" in the center")
                        : std::string(" ") + kPositions[int(o.position)].phrase;
    }
    if (!parts.background)
        return text;
    if (sc.gradientTo >= 0)
        text += std::string(" on a ") + kColours[sc.background].name + " and " + kColours[sc.gradientTo].name +
                " gradient background";
    else
        text += std::string(" on a ") + kColours[sc.background].name + " background";
    return text;
}

Image SyntheticShapes::render(const SceneSpec &sc, int size, std::uint64_t jitterSeed)
{
    cv::Mat img(size, size, CV_8UC3);
    if (sc.gradientTo >= 0) {
        const auto &a = kColours[sc.background];
        const auto &b = kColours[sc.gradientTo];
        for (int y = 0; y < size; ++y) {
            const float t = float(y) / float(size - 1);
            const cv::Vec3b c(cv::saturate_cast<uchar>(a.r + t * (b.r - a.r)),
                              cv::saturate_cast<uchar>(a.g + t * (b.g - a.g)),
                              cv::saturate_cast<uchar>(a.b + t * (b.b - a.b)));
            img.row(y).setTo(cv::Scalar(c[0], c[1], c[2]));
        }
    } else {
        img.setTo(toScalar(sc.background));
    }
    const auto where = placements(sc, size, jitterSeed);
    for (size_t i = 0; i < sc.objects.size(); ++i) {
        const auto &o = sc.objects[i];
        drawShape(img, o.shape, cv::Point2f(where[i].x, where[i].y), where[i].radius, toScalar(o.colour),
                  cv::LINE_AA);
    }
    Image out{size, size, 3, {}};
    out.pixels.assign(img.data, img.data + out.byteSize());
    return out;
}

std::vector<ObjectPlacement> SyntheticShapes::placements(const SceneSpec &sc, int size, std::uint64_t jitterSeed)
{
    std::mt19937_64 rng(mix(jitterSeed));
    auto jitter = [&rng](float amp) { return (float(rng() % 2001) / 1000.0f - 1.0f) * amp; };
    std::vector<ObjectPlacement> out;
    for (const auto &o : sc.objects) {
        const auto &p = kPositions[int(o.position)];
        const float base = (o.size == Size::Large ? 0.2f : 0.11f) * size;
        ObjectPlacement pl;
        pl.radius = base * (1.0f + jitter(0.1f));
        pl.x = p.x * size + jitter(0.04f * size);
        pl.y = p.y * size + jitter(0.04f * size);
        out.push_back(pl);
    }
    return out;
}

Sample SyntheticShapes::generate(std::uint64_t index) const
{
    Sample s;
    s.scene = scene(index);
    CaptionParts parts;
    if (m_options.partialCaptionProbability > 0) {
        std::mt19937_64 rng(mix(m_seed * 0x9e3779b97f4a7c15ULL + index + 17));
        auto chance = [&rng](float p) { return float(rng() % 1000000) / 1e6f < p; };
        parts.americanSpelling = chance(0.3f);
        if (chance(m_options.partialCaptionProbability)) {
            parts.size = chance(0.5f);
            parts.position = chance(0.5f);
            parts.background = chance(0.5f);
        }
    }
    s.caption = caption(s.scene, parts);
    if (m_options.contextObjectProbability > 0 && s.scene.objects.size() == 1) {
        std::mt19937_64 rng(mix(m_seed * 0xd1b54a32d192ed03ULL + index + 29));
        if (float(rng() % 1000000) / 1e6f < m_options.contextObjectProbability) {
            // The last object of another scene, kept if it is as far from the first
            // as scene()'s pairs and does not clash with this background. Unlike
            // scene()'s pairs both keep their sizes, so two large ones may touch.
            const SceneSpec other = scene(index ^ 0x5bd1e995ULL);
            const ShapeSpec &extra = other.objects.back();
            if (farApart(s.scene.objects[0].position, extra.position) && !clash(extra.colour, s.scene.background) &&
                !(s.scene.gradientTo >= 0 && clash(extra.colour, s.scene.gradientTo))) {
                s.scene.objects.push_back(extra);
                s.contextObject = true;
            }
        }
    }
    s.image = render(s.scene, m_options.imageSize, mix(m_seed ^ mix(index)));
    s.placements = placements(s.scene, m_options.imageSize, mix(m_seed ^ mix(index)));
    return s;
}

std::vector<std::string> SyntheticShapes::vocabularyWords()
{
    std::vector<std::string> words{"a", "and", "on", "in", "the", "at", "background", "gradient"};
    for (const auto &c : kColours)
        words.emplace_back(c.name);
    for (const auto *s : kShapeNames)
        words.emplace_back(s);
    for (const auto *s : kSizeNames)
        words.emplace_back(s);
    for (const char *w : {"top", "bottom", "left", "right", "centre", "center"})
        words.emplace_back(w);
    return words;
}

} // namespace stipple::core::shapes
