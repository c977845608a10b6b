#include "core/pipeline/Infotext.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace stipple::core {

namespace {

// Python's str(float) for the usual CFG/strength values: shortest repr,
// integers without ".0" the way A1111 writes them ("CFG scale: 7",
// "Denoising strength: 0.75").
std::string formatNumber(double v)
{
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
        return std::to_string(static_cast<long long>(v));
    char buf[64];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (float(std::strtod(buf, nullptr)) == float(v))
            break;
    }
    return buf;
}

bool isKeyChar(unsigned char c)
{
    return std::isalnum(c) || c == '_' || c == ' ' || c == '-' || c == '/' || c >= 0x80;
}

std::string trim(const std::string &s)
{
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

// A1111's re_param: \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
// applied with findall over the line.
std::vector<std::pair<std::string, std::string>> findParams(const std::string &line)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (i < n) {
        // Try to match at position i; on failure advance by one (findall semantics).
        std::size_t p = i;
        while (p < n && std::isspace(static_cast<unsigned char>(line[p])))
            ++p;
        const std::size_t keyStart = p;
        if (p < n && (std::isalnum(static_cast<unsigned char>(line[p])) || line[p] == '_'
                      || static_cast<unsigned char>(line[p]) >= 0x80)) {
            ++p;
            while (p < n && isKeyChar(static_cast<unsigned char>(line[p])))
                ++p;
            // The key needs >= 2 chars and is followed by ':'; backtrack over
            // trailing key chars is unnecessary since ':' is not a key char.
            if (p < n && line[p] == ':' && p - keyStart >= 2) {
                const std::string key = line.substr(keyStart, p - keyStart);
                std::size_t v = p + 1;
                while (v < n && std::isspace(static_cast<unsigned char>(line[v])))
                    ++v;
                std::string value;
                bool matched = false;
                if (v < n && line[v] == '"') {
                    std::size_t e = v + 1;
                    while (e < n && line[e] != '"') {
                        if (line[e] == '\\' && e + 1 < n)
                            ++e;
                        ++e;
                    }
                    if (e < n && e > v + 1 && (e + 1 == n || line[e + 1] == ',')) {
                        value = line.substr(v, e - v + 1);
                        i = e + 1 < n ? e + 2 : n;
                        matched = true;
                    }
                }
                if (!matched) {
                    std::size_t e = v;
                    while (e < n && line[e] != ',')
                        ++e;
                    value = line.substr(v, e - v);
                    i = e < n ? e + 1 : n;
                }
                out.emplace_back(key, value);
                continue;
            }
        }
        ++i;
    }
    return out;
}

std::string unquote(const std::string &v)
{
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        try {
            return nlohmann::json::parse(v).get<std::string>();
        } catch (const std::exception &) {
            return v;
        }
    }
    return v;
}

std::vector<std::string> splitLines(const std::string &s)
{
    std::vector<std::string> lines;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur))
        lines.push_back(cur);
    if (lines.empty())
        lines.emplace_back();
    return lines;
}

template <typename T>
bool parseNumber(const std::string &s, T &out)
{
    try {
        std::size_t used = 0;
        if constexpr (std::is_floating_point_v<T>) {
            const double v = std::stod(s, &used);
            if (used != s.size())
                return false;
            out = T(v);
        } else {
            const long long v = std::stoll(s, &used);
            if (used != s.size())
                return false;
            out = T(v);
        }
        return true;
    } catch (const std::exception &) {
        return false;
    }
}

} // namespace

std::optional<std::string> Infotext::get(const std::string &key) const
{
    for (const auto &[k, v] : params)
        if (k == key)
            return v;
    return std::nullopt;
}

void Infotext::set(const std::string &key, const std::string &value)
{
    for (auto &[k, v] : params) {
        if (k == key) {
            v = value;
            return;
        }
    }
    params.emplace_back(key, value);
}

std::string quoteInfotextValue(const std::string &value)
{
    if (value.find_first_of(",:\n") == std::string::npos)
        return value;
    // json.dumps(text, ensure_ascii=False)
    return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Infotext makeInfotext(const GenerationRequest &r, const InfotextContext &c)
{
    Infotext info;
    info.prompt = r.prompt;
    info.negativePrompt = r.negativePrompt;
    // Key order as A1111's create_infotext.
    info.set("Steps", std::to_string(r.steps));
    info.set("Sampler", r.sampler);
    if (!r.scheduleType.empty())
        info.set("Schedule type", r.scheduleType);
    info.set("CFG scale", formatNumber(r.cfgScale));
    info.set("Seed", std::to_string(c.seed));
    info.set("Size", std::to_string(c.width) + "x" + std::to_string(c.height));
    if (!c.modelHash.empty())
        info.set("Model hash", c.modelHash);
    if (!c.modelName.empty())
        info.set("Model", c.modelName);
    if (!c.vaeName.empty())
        info.set("VAE", c.vaeName);
    if (r.batchSize > 1) {
        info.set("Batch size", std::to_string(r.batchSize));
        info.set("Batch pos", std::to_string(c.batchPos));
    }
    if (r.initImage)
        info.set("Denoising strength", formatNumber(r.strength));
    if (r.clipSkip > 1)
        info.set("Clip skip", std::to_string(r.clipSkip));
    if (r.mask) {
        info.set("Mask blur", std::to_string(r.maskBlur));
        if (r.inpaintOnlyMasked) {
            info.set("Inpaint area", "Only masked");
            info.set("Masked area padding", std::to_string(r.onlyMaskedPadding));
        }
    }
    if (r.eta != 0.0f)
        info.set("Eta", formatNumber(r.eta));
    if (r.promptSyntax == PromptSyntax::Diffusers)
        info.set("Prompt syntax", "diffusers");
    if (r.dtype == ComputeDType::BFloat16)
        info.set("Precision", "bf16");
    if (!c.version.empty())
        info.set("Version", c.version);
    return info;
}

std::string formatInfotext(const Infotext &info)
{
    std::string params;
    for (const auto &[k, v] : info.params) {
        if (!params.empty())
            params += ", ";
        params += k == v ? k : k + ": " + quoteInfotextValue(v);
    }
    std::string text = info.prompt;
    if (!info.negativePrompt.empty())
        text += "\nNegative prompt: " + info.negativePrompt;
    text += "\n" + params;
    return trim(text);
}

Infotext parseInfotext(const std::string &text)
{
    Infotext info;
    std::vector<std::string> lines = splitLines(trim(text));
    std::string last = lines.back();
    lines.pop_back();
    if (findParams(last).size() < 3) {
        lines.push_back(last);
        last.clear();
    }
    bool negative = false;
    for (std::string line : lines) {
        line = trim(line);
        if (line.rfind("Negative prompt:", 0) == 0) {
            negative = true;
            line = trim(line.substr(16));
        }
        std::string &dst = negative ? info.negativePrompt : info.prompt;
        dst += (dst.empty() ? "" : "\n") + line;
    }
    for (auto &[k, v] : findParams(last))
        info.params.emplace_back(k, unquote(v));
    return info;
}

void applyInfotext(const Infotext &info, GenerationRequest &r)
{
    r.prompt = info.prompt;
    r.negativePrompt = info.negativePrompt;
    if (auto v = info.get("Steps"))
        parseNumber(*v, r.steps);
    if (auto v = info.get("Sampler"))
        r.sampler = *v;
    if (auto v = info.get("Schedule type"))
        r.scheduleType = *v;
    if (auto v = info.get("CFG scale"))
        parseNumber(*v, r.cfgScale);
    if (auto v = info.get("Seed"))
        parseNumber(*v, r.seed);
    if (auto v = info.get("Size")) {
        const auto x = v->find('x');
        int w = 0, h = 0;
        if (x != std::string::npos && parseNumber(v->substr(0, x), w) && parseNumber(v->substr(x + 1), h)) {
            r.width = w;
            r.height = h;
        }
    }
    if (auto v = info.get("Clip skip"))
        parseNumber(*v, r.clipSkip);
    if (auto v = info.get("Denoising strength"))
        parseNumber(*v, r.strength);
    if (auto v = info.get("Mask blur"))
        parseNumber(*v, r.maskBlur);
    if (auto v = info.get("Eta"))
        parseNumber(*v, r.eta);
    if (auto v = info.get("Batch size"))
        parseNumber(*v, r.batchSize);
    if (auto v = info.get("Prompt syntax"))
        r.promptSyntax = *v == "diffusers" ? PromptSyntax::Diffusers : PromptSyntax::A1111;
}

} // namespace stipple::core
