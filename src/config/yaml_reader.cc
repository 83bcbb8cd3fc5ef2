#include "internal/yaml_reader.h"

#include <agentstream/core/time.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace agentstream::config {

namespace {

struct DocumentCheck {
    const std::string& file;
    const DocumentLimits& limits;
    std::size_t nodes = 0;
    std::size_t bytes = 0;
    // A node met again through an alias is the same node (same position in the text): its
    // expansion is counted from what its first walk found, without walking it again.
    struct Size {
        std::size_t nodes = 0;
        std::size_t bytes = 0;
    };
    std::map<std::pair<int, int>, Size> seen;  // (position, type) -> expanded size

    [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
        bool known = !mark.is_null();
        throw ConfigError(file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, message);
    }

    void add(const YAML::Mark& mark, std::size_t n, std::size_t b) {
        nodes += n;
        bytes += b;
        if (nodes > limits.max_nodes) {
            fail(mark, fmt::format("the document expands to more than {} nodes once its aliases "
                                   "are followed; a pipeline file needs far fewer (an alias "
                                   "bomb?)",
                                   limits.max_nodes));
        }
        if (bytes > limits.max_scalar_bytes) {
            fail(mark, fmt::format("the document expands to more than {} MiB of text once its "
                                   "aliases are followed (an alias bomb?)",
                                   limits.max_scalar_bytes / (1024 * 1024)));
        }
    }

    void walk(const YAML::Node& node, int depth) {
        auto mark = node.Mark();
        if (depth > limits.max_depth) {
            fail(mark, fmt::format("nested more than {} levels deep", limits.max_depth));
        }
        std::pair<int, int> id{mark.pos, static_cast<int>(node.Type())};
        bool identifiable = !mark.is_null() && !node.IsScalar() && !node.IsNull();
        if (identifiable) {
            if (auto it = seen.find(id); it != seen.end()) {
                add(mark, it->second.nodes, it->second.bytes);
                return;
            }
        }
        auto before_nodes = nodes;
        auto before_bytes = bytes;
        add(mark, 1, node.IsScalar() ? node.Scalar().size() : 0);
        if (node.IsMap()) {
            std::map<std::string, YAML::Mark, std::less<>> keys;
            for (const auto& entry : node) {
                if (entry.first.IsScalar()) {
                    auto [it, fresh] = keys.emplace(entry.first.Scalar(), entry.first.Mark());
                    if (!fresh) {
                        fail(entry.first.Mark(),
                             fmt::format("duplicate key '{}' (first at line {}); a mapping "
                                         "holds each key once",
                                         entry.first.Scalar(), it->second.line + 1));
                    }
                }
                walk(entry.first, depth + 1);
                walk(entry.second, depth + 1);
            }
        } else if (node.IsSequence()) {
            for (const auto& item : node) {
                walk(item, depth + 1);
            }
        }
        if (identifiable) {
            seen[id] = {nodes - before_nodes, bytes - before_bytes};
        }
    }
};

}  // namespace

YAML::Node load_document(const std::string& text, const std::string& file,
                         const DocumentLimits& limits) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(file, e.mark.is_null() ? 0 : e.mark.line + 1,
                          e.mark.is_null() ? 0 : e.mark.column + 1,
                          fmt::format("invalid YAML: {}", e.msg));
    }
    DocumentCheck check{file, limits};
    check.walk(root, 0);
    return root;
}

YAML::Node YamlReader::root(const Config& config) const {
    if (config.text().empty()) {
        return {};
    }
    return load_document(config.text(), _file);
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
