// Deterministic synthetic captioned images for training the built-in model:
// one or two coloured shapes (circle, square, triangle, star, ring, cross) of
// a named size at a named position, on a plain or two-colour gradient
// background, with a plain-English caption that says all of it, e.g.
// "a large red star in the top left on a blue background".
// Sample i of seed s is always the same image and caption.
// Thread-safety: generate() is const and may run on several threads.
#pragma once

#include "core/image/Image.h"
#include "core/synth/ShapesVocabulary.h"

#include <cstdint>
#include <string>
#include <vector>

namespace stipple::core::shapes {

struct ShapeSpec {
    Shape shape = Shape::Circle;
    int colour = 0;             // index into kColours
    Size size = Size::Large;
    Position position = Position::Centre;
};

struct SceneSpec {
    std::vector<ShapeSpec> objects; // 1 or 2, at different positions
    int background = 0;             // index into kColours
    int gradientTo = -1;            // >= 0: vertical gradient background -> this colour
};

// Which attributes a caption states. Training captions sometimes leave some
// out, so that short prompts ("a blue circle") mean "any size, position and
// background" instead of being unlike anything the model has read.
struct CaptionParts {
    bool size = true;
    bool position = true;
    bool background = true;
    bool americanSpelling = false; // "center" for "centre"
};

// Where render() drew an object: its centre and the radius of the circle
// that holds it, in pixels.
struct ObjectPlacement {
    float x = 0, y = 0, radius = 0;
};

struct Sample {
    SceneSpec scene;
    std::string caption;
    Image image; // RGB
    std::vector<ObjectPlacement> placements; // one per scene object, same order
    bool contextObject = false; // the last object is one the caption does not name
};

struct DatasetOptions {
    int imageSize = 128;
    float twoObjectProbability = 0.2f;
    float gradientProbability = 0.15f;
    float partialCaptionProbability = 0.0f; // then each part is left out with p = 0.5
    // A single-object scene gets, with this probability, a second object that
    // the caption does not mention. Inpainting asks for one object in a picture
    // that already holds others ("a green square" next to a red circle); a model
    // that only saw captions naming every object reads that prompt as wrong
    // about the picture, and leaves the mask empty or borrows the other
    // object's colour. A candidate too near the first object or in the
    // background's colour is dropped: about 40% of draws add one.
    float contextObjectProbability = 0.0f;
};

class SyntheticShapes {
public:
    explicit SyntheticShapes(std::uint64_t seed, DatasetOptions options = {});

    // Random scene for sample `index` (deterministic in seed and index).
    SceneSpec scene(std::uint64_t index) const;
    Sample generate(std::uint64_t index) const;

    static std::string caption(const SceneSpec &scene, CaptionParts parts = {});
    static Image render(const SceneSpec &scene, int imageSize, std::uint64_t jitterSeed);
    // The jittered centres and radii render() uses for the same arguments.
    static std::vector<ObjectPlacement> placements(const SceneSpec &scene, int imageSize, std::uint64_t jitterSeed);

    // Every caption word, for the sentencepiece training corpus and README.
    static std::vector<std::string> vocabularyWords();

private:
    std::uint64_t m_seed;
    DatasetOptions m_options;
};

} // namespace stipple::core::shapes
