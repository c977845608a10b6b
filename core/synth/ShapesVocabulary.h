// The vocabulary of the built-in model's synthetic data set: named colours,
// shapes, sizes and positions, and how each is phrased in captions. The
// README documents the same lists; prompts built from them are what the
// built-in model understands. Thread-safety: constant data.
#pragma once

#include <array>
#include <string>

namespace stipple::core::shapes {

struct NamedColour {
    const char *name;
    unsigned char r, g, b;
};

// Ten colours far apart in RGB so that a nearest-colour classifier on a
// generated region is unambiguous.
inline constexpr std::array<NamedColour, 10> kColours{{
    {"red", 220, 30, 30},
    {"orange", 245, 140, 20},
    {"yellow", 240, 225, 30},
    {"green", 40, 170, 50},
    {"cyan", 40, 210, 220},
    {"blue", 30, 60, 210},
    {"purple", 130, 40, 170},
    {"pink", 245, 130, 190},
    {"white", 245, 245, 245},
    {"black", 20, 20, 20},
}};

enum class Shape { Circle, Square, Triangle, Star, Ring, Cross, Count };
inline constexpr std::array<const char *, 6> kShapeNames{{"circle", "square", "triangle", "star", "ring", "cross"}};

enum class Size { Small, Large, Count };
inline constexpr std::array<const char *, 2> kSizeNames{{"small", "large"}};

// Nine positions on a 3x3 grid; phrase as it appears in captions.
enum class Position { TopLeft, Top, TopRight, Left, Centre, Right, BottomLeft, Bottom, BottomRight, Count };
struct PositionInfo {
    const char *name;   // short name used by the evaluator ("top left")
    const char *phrase; // caption phrase ("in the top left")
    float x, y;         // centre as a fraction of the image size
};
inline constexpr std::array<PositionInfo, 9> kPositions{{
    {"top left", "in the top left", 0.25f, 0.25f},
    {"top", "at the top", 0.5f, 0.25f},
    {"top right", "in the top right", 0.75f, 0.25f},
    {"left", "on the left", 0.25f, 0.5f},
    {"centre", "in the centre", 0.5f, 0.5f},
    {"right", "on the right", 0.75f, 0.5f},
    {"bottom left", "in the bottom left", 0.25f, 0.75f},
    {"bottom", "at the bottom", 0.5f, 0.75f},
    {"bottom right", "in the bottom right", 0.75f, 0.75f},
}};

inline int colourIndex(const std::string &name)
{
    for (size_t i = 0; i < kColours.size(); ++i)
        if (name == kColours[i].name)
            return int(i);
    return -1;
}

} // namespace stipple::core::shapes
