// Internal (src/internal: shared by modules, never installed, no API promise).
// Reading a Section of the pipeline file (routes, alerts, notifications, ...): the modules that
// own a section share these helpers so every mistake is reported the same way, as a
// config::ConfigError with the file, line and column of the offending node.
#pragma once

#include <agentstream/config/config.h>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::config {

/// What a pipeline file may expand to once its aliases are followed (a billion-laughs file of
/// 1.3 KB expands to gigabytes), and how deep it may nest.
struct DocumentLimits {
    std::size_t max_nodes = 1'000'000;
    std::size_t max_scalar_bytes = 32 * 1024 * 1024;
    int max_depth = 64;
};

/// Parses a YAML document and checks it before anyone walks it: its expansion (aliases counted
/// each time they are used) and depth are within `limits`, and no mapping repeats a key (YAML
/// forbids it; yaml-cpp keeps both and a lookup silently takes one). Each failure is a
/// ConfigError with the file, line and column of the node at fault.
YAML::Node load_document(const std::string& text, const std::string& file,
                         const DocumentLimits& limits = {});

class YamlReader {
  public:
    explicit YamlReader(std::string file) : _file(std::move(file)) {}

    /// The document of a loaded configuration (a null node for an empty one).
    YAML::Node root(const Config& config) const;
    /// The node at a top-level key; a null node (IsNull()) when absent or null.
    YAML::Node section(const YAML::Node& root, std::string_view key) const;

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;
    /// A non-empty scalar.
    std::string scalar(const YAML::Node& node, std::string_view what) const;
    bool boolean(const YAML::Node& node, std::string_view what) const;
    std::int64_t integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                         std::int64_t max) const;
    /// `250ms`, `30s`, `5m`, `1h`, ...
    std::chrono::milliseconds duration(const YAML::Node& node, std::string_view what) const;
    /// A scalar or a list of scalars.
    std::vector<std::string> strings(const YAML::Node& node, std::string_view what) const;
    /// Fails on a key of `node` (a mapping) that is not in `known`.
    void only_keys(const YAML::Node& node, std::string_view what,
                   std::initializer_list<std::string_view> known) const;

    const std::string& file() const noexcept { return _file; }

  private:
    std::string _file;
};

}  // namespace agentstream::config
