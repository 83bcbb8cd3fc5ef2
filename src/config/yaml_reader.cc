#include "config/yaml_reader.h"

#include <agentstream/core/time.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

namespace agentstream::config {

YAML::Node YamlReader::root(const Config& config) const {
    if (config.text().empty()) {
        return {};
    }
    try {
        return YAML::Load(config.text());
    } catch (const YAML::Exception& e) {
        throw ConfigError(_file, e.mark.is_null() ? 0 : e.mark.line + 1,
                          e.mark.is_null() ? 0 : e.mark.column + 1,
                          fmt::format("invalid YAML: {}", e.msg));
    }
}

YAML::Node YamlReader::section(const YAML::Node& root, std::string_view key) const {
    if (!root || !root.IsMap()) {
        return {};
    }
    auto node = root[std::string(key)];
    if (!node || node.IsNull()) {
        return {};
    }
    return node;
}

void YamlReader::fail(const YAML::Node& node, const std::string& message) const {
    auto mark = node.Mark();
    bool known = !mark.is_null();
    throw ConfigError(_file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, message);
}

std::string YamlReader::scalar(const YAML::Node& node, std::string_view what) const {
    if (!node.IsScalar() || node.Scalar().empty()) {
        fail(node, fmt::format("{}: expected a value", what));
    }
    return node.Scalar();
}

bool YamlReader::boolean(const YAML::Node& node, std::string_view what) const {
    auto text = scalar(node, what);
    if (text != "true" && text != "false") {
        fail(node, fmt::format("{}: expected true or false, got '{}'", what, text));
    }
    return text == "true";
}

std::int64_t YamlReader::integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                 std::int64_t max) const {
    auto text = scalar(node, what);
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
        fail(node, fmt::format("{}: expected an integer, got '{}'", what, text));
    }
    if (v < min || v > max) {
        fail(node, fmt::format("{}: {} is out of range [{}, {}]", what, v, min, max));
    }
    return v;
}

std::chrono::milliseconds YamlReader::duration(const YAML::Node& node,
                                               std::string_view what) const {
    auto text = scalar(node, what);
    auto d = parse_duration(text);
    if (!d) {
        fail(node, fmt::format("{}: expected a duration such as 30s, 5m, 1h or 250ms, at most "
                               "87600h (ten years), got '{}'",
                               what, text));
    }
    return *d;
}

std::vector<std::string> YamlReader::strings(const YAML::Node& node, std::string_view what) const {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        out.push_back(scalar(node, what));
    } else if (node.IsSequence()) {
        for (const auto& item : node) {
            out.push_back(scalar(item, what));
        }
    } else {
        fail(node, fmt::format("{}: expected a value or a list of values", what));
    }
    return out;
}

void YamlReader::only_keys(const YAML::Node& node, std::string_view what,
                           std::initializer_list<std::string_view> known) const {
    for (const auto& e : node) {
        const auto& key = e.first.Scalar();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            fail(e.first, fmt::format("{}: unknown key '{}'; expected one of {}", what, key,
                                      fmt::join(known, ", ")));
        }
    }
}

}  // namespace agentstream::config
