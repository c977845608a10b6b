// Strict state-dict loading (see WeightLoading.h).
#include "core/models/common/WeightLoading.h"

#include "core/models/common/ModuleConversion.h"

#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <map>
#include <sstream>

namespace stipple::core {

namespace {

std::string shapeString(at::IntArrayRef sizes)
{
    std::ostringstream s;
    s << '[';
    for (size_t i = 0; i < sizes.size(); ++i)
        s << (i ? "," : "") << sizes[i];
    s << ']';
    return s.str();
}

void appendList(std::ostringstream &out, const char *what, const std::vector<std::string> &items)
{
    constexpr size_t kShown = 10;
    out << "; " << items.size() << ' ' << what << ": ";
    for (size_t i = 0; i < items.size() && i < kShown; ++i)
        out << (i ? ", " : "") << items[i];
    if (items.size() > kShown)
        out << ", ... (" << (items.size() - kShown) << " more)";
}

} // namespace

Status loadWeightsStrict(torch::nn::Module &module, const StateDict &weights,
                         const std::string &component, WeightLoadReport *report, WeightTransfer transfer)
{
    WeightLoadReport local;
    WeightLoadReport &r = report ? *report : local;
    r = WeightLoadReport{};

    // Every parameter and buffer of the module, by its full dotted name.
    std::map<std::string, at::Tensor> targets;
    for (const auto &item : module.named_parameters(/*recurse=*/true))
        targets.emplace(item.key(), item.value());
    for (const auto &item : module.named_buffers(/*recurse=*/true))
        targets.emplace(item.key(), item.value());

    for (const auto &[name, target] : targets) {
        const auto it = weights.find(name);
        if (it == weights.end()) {
            r.missing.push_back(name);
            continue;
        }
        if (!it->second.defined() || it->second.sizes() != target.sizes()) {
            r.shapeMismatches.push_back(name + ": expected " + shapeString(target.sizes()) +
                                        " got " +
                                        (it->second.defined() ? shapeString(it->second.sizes())
                                                              : std::string("undefined")));
        }
    }
    for (const auto &[name, tensor] : weights) {
        (void)tensor;
        if (!targets.count(name))
            r.unexpected.push_back(name);
    }

    if (!r.missing.empty() || !r.unexpected.empty() || !r.shapeMismatches.empty()) {
        // The most specific code first: a wrong architecture usually shows up
        // as missing keys, a wrong variant (SD1 vs SD2 projections) as shapes.
        ErrorCode code = !r.missing.empty()      ? ErrorCode::MissingKeys
                         : !r.shapeMismatches.empty() ? ErrorCode::ShapeMismatch
                                                      : ErrorCode::UnexpectedKeys;
        std::ostringstream msg;
        msg << "cannot load " << component << " weights strictly";
        if (!r.missing.empty())
            appendList(msg, "missing keys", r.missing);
        if (!r.unexpected.empty())
            appendList(msg, "unexpected keys", r.unexpected);
        if (!r.shapeMismatches.empty())
            appendList(msg, "shape mismatches", r.shapeMismatches);
        return makeError(code, msg.str());
    }

    try {
        torch::NoGradGuard noGrad;
        for (auto &[name, target] : targets) {
            const at::Tensor &source = weights.at(name);
            if (transfer == WeightTransfer::Adopt && source.device() == target.device()) {
                if (source.is_inference() == target.is_inference())
                    target.set_data(source); // the caller converts to its dtype afterwards
                else // opened in the other InferenceMode state than the module was built in
                    replaceData(target, [&] { return source.clone(); });
            }
            else
                target.copy_(source); // converts dtype, keeps the module's memory format
        }
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal,
                         "copying " + component + " weights failed: " + e.what_without_backtrace());
    }
    return {};
}

} // namespace stipple::core
