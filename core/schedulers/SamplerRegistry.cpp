// Sampler name tables (see SamplerRegistry.h).
#include "core/schedulers/SamplerRegistry.h"

#include <algorithm>
#include <cctype>

namespace stipple::core {

namespace {

struct NameEntry {
    const char *name;        // spelling accepted (compared case-insensitively)
    SamplerKind kind;
    bool karras;
    std::optional<TimestepSpacing> spacing;
};

// Canonical A1111 names first (their order is the UI order), then aliases.
const NameEntry kNames[] = {
    // AUTOMATIC1111
    {"Euler a", SamplerKind::EulerAncestral, false, {}},
    {"Euler", SamplerKind::Euler, false, {}},
    {"LMS", SamplerKind::Lms, false, {}},
    {"LMS Karras", SamplerKind::Lms, true, {}},
    {"Heun", SamplerKind::Heun, false, {}},
    {"DPM++ 2M", SamplerKind::DpmppTwoM, false, {}},
    {"DPM++ 2M Karras", SamplerKind::DpmppTwoM, true, {}},
    {"DPM++ SDE", SamplerKind::DpmppSde, false, {}},
    {"DPM++ SDE Karras", SamplerKind::DpmppSde, true, {}},
    {"DDIM", SamplerKind::Ddim, false, {}},
    {"PLMS", SamplerKind::Pndm, false, {}},
    {"DDPM", SamplerKind::Ddpm, false, {}},
    {"UniPC", SamplerKind::UniPc, false, {}},
    // A1111 internal aliases
    {"k_euler_a", SamplerKind::EulerAncestral, false, {}},
    {"k_euler_ancestral", SamplerKind::EulerAncestral, false, {}},
    {"k_euler", SamplerKind::Euler, false, {}},
    {"k_lms", SamplerKind::Lms, false, {}},
    {"k_lms_ka", SamplerKind::Lms, true, {}},
    {"k_heun", SamplerKind::Heun, false, {}},
    {"k_dpmpp_2m", SamplerKind::DpmppTwoM, false, {}},
    {"k_dpmpp_2m_ka", SamplerKind::DpmppTwoM, true, {}},
    {"k_dpmpp_sde", SamplerKind::DpmppSde, false, {}},
    {"k_dpmpp_sde_ka", SamplerKind::DpmppSde, true, {}},
    // diffusers scheduler classes
    {"EulerDiscreteScheduler", SamplerKind::Euler, false, {}},
    {"EulerAncestralDiscreteScheduler", SamplerKind::EulerAncestral, false, {}},
    {"LMSDiscreteScheduler", SamplerKind::Lms, false, {}},
    {"HeunDiscreteScheduler", SamplerKind::Heun, false, {}},
    {"DPMSolverMultistepScheduler", SamplerKind::DpmppTwoM, false, {}},
    {"DPMSolverSDEScheduler", SamplerKind::DpmppSde, false, {}},
    {"DDIMScheduler", SamplerKind::Ddim, false, {}},
    {"PNDMScheduler", SamplerKind::Pndm, false, {}},
    {"DDPMScheduler", SamplerKind::Ddpm, false, {}},
    {"UniPCMultistepScheduler", SamplerKind::UniPc, false, {}},
    // stable-diffusion.cpp --sampling-method values that map onto these algorithms
    {"euler_a", SamplerKind::EulerAncestral, false, {}},
    {"heun", SamplerKind::Heun, false, {}},
    {"dpm++2m", SamplerKind::DpmppTwoM, false, {}},
    {"ddim_trailing", SamplerKind::Ddim, false, TimestepSpacing::Trailing},
    // plain lower-case spellings
    {"lms", SamplerKind::Lms, false, {}},
    {"ddim", SamplerKind::Ddim, false, {}},
    {"ddpm", SamplerKind::Ddpm, false, {}},
    {"plms", SamplerKind::Pndm, false, {}},
    {"pndm", SamplerKind::Pndm, false, {}},
    {"unipc", SamplerKind::UniPc, false, {}},
    {"dpm++sde", SamplerKind::DpmppSde, false, {}},
};
constexpr int kCanonicalCount = 13;

// stable-diffusion.cpp methods we know but do not implement.
const char *const kKnownUnsupported[] = {"dpm2", "dpm++2s_a", "dpm++2mv2", "ipndm", "ipndm_v", "lcm", "tcd"};

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string trimmed(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t");
    size_t e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool supportsKarras(SamplerKind k)
{
    switch (k) {
    case SamplerKind::Euler:
    case SamplerKind::Lms:
    case SamplerKind::Heun:
    case SamplerKind::DpmppTwoM:
    case SamplerKind::DpmppSde:
    case SamplerKind::UniPc:
        return true;
    default:
        return false;
    }
}

std::string canonicalName(SamplerKind kind, bool karras)
{
    for (int i = 0; i < kCanonicalCount; ++i) {
        if (kNames[i].kind == kind && kNames[i].karras == karras)
            return kNames[i].name;
    }
    for (int i = 0; i < kCanonicalCount; ++i) {
        if (kNames[i].kind == kind)
            return std::string(kNames[i].name) + (karras ? " Karras" : "");
    }
    return "?";
}

std::string joined(const std::vector<std::string> &names)
{
    std::string out;
    for (const auto &n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

} // namespace

Result<SamplerSpec> samplerFromName(const std::string &name, const std::string &scheduleType, double eta)
{
    const std::string key = lower(trimmed(name));
    const NameEntry *found = nullptr;
    for (const auto &e : kNames) {
        if (lower(e.name) == key) {
            found = &e;
            break;
        }
    }
    if (!found) {
        std::string msg = "unknown sampler \"" + name + "\"";
        for (const char *u : kKnownUnsupported) {
            if (key == u)
                msg = "sampler \"" + name + "\" is not implemented";
        }
        return makeError(ErrorCode::InvalidArgument, msg + "; valid names: " + joined(acceptedSamplerNames()));
    }
    SamplerSpec spec;
    spec.kind = found->kind;
    spec.karras = found->karras;
    spec.spacing = found->spacing;

    const std::string type = lower(trimmed(scheduleType));
    if (type.empty() || type == "automatic" || type == "default") {
        // the name decides
    } else if (type == "karras") {
        if (!supportsKarras(spec.kind))
            return makeError(ErrorCode::InvalidArgument,
                             "sampler \"" + name + "\" has no Karras schedule; samplers with one: "
                                 "Euler, LMS, Heun, DPM++ 2M, DPM++ SDE, UniPC");
        spec.karras = true;
    } else if (type == "discrete" || type == "uniform" || type == "normal") {
        spec.karras = false;
    } else {
        return makeError(ErrorCode::InvalidArgument,
                         "unknown schedule type \"" + scheduleType + "\"; valid: Automatic, Karras, Discrete");
    }
    if (!(eta >= 0.0 && eta <= 10.0))
        return makeError(ErrorCode::InvalidArgument, "eta must be in [0, 10]");
    spec.eta = spec.kind == SamplerKind::Ddim ? eta : 0.0;
    spec.name = canonicalName(spec.kind, spec.karras);
    return spec;
}

std::vector<std::string> samplerNames()
{
    std::vector<std::string> out;
    for (int i = 0; i < kCanonicalCount; ++i)
        out.emplace_back(kNames[i].name);
    return out;
}

std::vector<std::string> acceptedSamplerNames()
{
    std::vector<std::string> out;
    for (const auto &e : kNames)
        out.emplace_back(e.name);
    return out;
}

bool isStochastic(const SamplerSpec &spec)
{
    switch (spec.kind) {
    case SamplerKind::EulerAncestral:
    case SamplerKind::DpmppSde:
    case SamplerKind::Ddpm:
        return true;
    case SamplerKind::Ddim:
        return spec.eta > 0.0;
    default:
        return false;
    }
}

} // namespace stipple::core
