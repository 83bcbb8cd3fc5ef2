// The pipeline file: one YAML file configures a deployment. Every key is declared once in a
// table (key, type, default, range, description); validation, `agentstream config keys` and
// docs/configuration.md all come from it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentstream::config {

enum class ValueType : std::uint8_t {
    String,
    Integer,
    Boolean,
    Enum,         ///< a string from `allowed`
    LogSpec,      ///< a log level spec such as `info,kafka=debug`
    PropertyMap,  ///< a mapping of names to scalars, passed through (librdkafka properties)
    TopicMap,     ///< topic name → partitions, or → {partitions, replication_factor, config}
    Section,      ///< structured; read and validated by its module from Config::text()
};

struct KeySpec {
    std::string_view path;  ///< dotted, e.g. `logging.level`
    ValueType type;
    std::string_view default_value;  ///< as YAML text; empty for none
    std::string_view description;
    std::span<const std::string_view> allowed = {};
    std::int64_t min = std::numeric_limits<std::int64_t>::min();
    std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

/// Every key of the pipeline file, in documentation order.
std::span<const KeySpec> keys() noexcept;
/// The key at `path`, or nullptr.
const KeySpec* find_key(std::string_view path) noexcept;

/// A configuration mistake, located: `file:line:column: message` (line and column 1-based;
/// 0 when unknown).
class ConfigError : public std::runtime_error {
  public:
    ConfigError(std::string file, int line, int column, const std::string& message);
    const std::string& file() const noexcept { return _file; }
    int line() const noexcept { return _line; }
    int column() const noexcept { return _column; }

  private:
    std::string _file;
    int _line;
    int _column;
};

using Properties = std::vector<std::pair<std::string, std::string>>;

/// A topic the deployment uses: created on the embedded broker at start, checked on real Kafka.
struct TopicSpec {
    std::string name;
    int partitions = 0;          ///< 0: the default (`embedded.partitions`)
    int replication_factor = 0;  ///< 0: the broker's default (`default.replication.factor`)
    Properties config;
};

/// A loaded, validated pipeline file. Immutable; safe to share between threads.
class Config {
  public:
    /// An empty configuration: every key at its default.
    Config() = default;

    /// Loads and validates a file. Throws ConfigError naming file, line and what was expected
    /// (unknown key, wrong type, out of range, YAML syntax error, unreadable file).
    static Config load(const std::filesystem::path& file);
    /// Same, from text; `name` stands for the file in messages.
    static Config parse(const std::string& yaml, const std::string& name = "<config>");

    /// The value of a scalar key, or its default. Throws std::invalid_argument for a path that
    /// is not in the key table or has another type (a programming error).
    std::string string(std::string_view path) const;
    std::int64_t integer(std::string_view path) const;
    bool boolean(std::string_view path) const;
    /// The entries of a PropertyMap key (empty when unset), in file order.
    const Properties& properties(std::string_view path) const;
    /// The topics of a TopicMap key, in file order.
    const std::vector<TopicSpec>& topics(std::string_view path) const;
    /// Whether the file set the key.
    bool is_set(std::string_view path) const;
    /// The file name the configuration came from (empty for the default configuration).
    const std::string& source() const noexcept { return _source; }
    /// The YAML text it was parsed from, for modules that read a Section key themselves (their
    /// errors then carry the same file and line numbers).
    const std::string& text() const noexcept { return _text; }

  private:
    std::string _source;
    std::string _text;
    std::set<std::string, std::less<>> _sections;
    std::map<std::string, std::string, std::less<>> _values;
    std::map<std::string, Properties, std::less<>> _properties;
    std::map<std::string, std::vector<TopicSpec>, std::less<>> _topics;
};

}  // namespace agentstream::config
