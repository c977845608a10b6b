// Reads back what a generated image shows, to measure whether the built-in
// model follows its prompt: the background colour (border band, nearest named
// colour), the object (pixels far from the local background, largest
// component), its colour (median, nearest named colour), its shape (the region
// inside the object's OpenCV contour, minus its holes, matched against the six
// outlines the data set draws, by intersection over union) and its position
// (centroid on the 3x3 grid).
// Thread-safety: pure functions.
#pragma once

#include "core/image/Image.h"
#include "core/synth/SyntheticShapes.h"

#include <array>
#include <string>
#include <vector>

namespace stipple::core::shapes {

struct Reading {
    bool found = false;        // an object was found at all
    int background = -1;       // colour index
    int objectColour = -1;
    int shape = -1;            // Shape as int
    int position = -1;         // Position as int
    float objectFraction = 0;  // object pixels / image pixels
};

int nearestColour(float r, float g, float b);
Reading readImage(const Image &rgb);

struct AttributeScores {
    int total = 0;
    int objectColour = 0, background = 0, shape = 0, position = 0;
    // The position's grid row (top/middle/bottom) and column (left/centre/right)
    // on their own: tells a model that follows one axis from one that follows none.
    int positionRow = 0, positionColumn = 0;
    // Shape read-outs by the asked-for shape (row) and what was read (column;
    // the last column counts images where no shape could be read), and the
    // shape hits by the asked-for size: tells which shapes and sizes a model
    // confuses, where the overall rate only says how often.
    std::array<std::array<int, int(Shape::Count) + 1>, int(Shape::Count)> shapeConfusion{};
    std::array<int, int(Size::Count)> sizeTotal{}, shapeHitsBySize{};
    double rate(int n) const { return total ? double(n) / total : 0.0; }
};

void score(const SceneSpec &expected, const Reading &got, AttributeScores &scores);

// A fixed, balanced grid of single-object prompts for evaluation: every shape,
// colour and position appears equally often.
std::vector<SceneSpec> evaluationScenes(int count, std::uint64_t seed);

} // namespace stipple::core::shapes
