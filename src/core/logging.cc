#include "internal/log.h"

#include <fmt/format.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

#include <agentstream/core/time.h>
#include "internal/json_escape.h"

namespace agentstream {
namespace {

// One JSON object per line: {"time","level","logger","message","thread"}.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line;
        line.reserve(msg.payload.size() + 96);
        line += R"({"time":")";
        format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(msg.time), line);
        line += R"(","level":")";
        auto level = spdlog::level::to_string_view(msg.level);
        line.append(level.data(), level.size());
        line += R"(","logger":)";
        append_json_string(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
        line += R"(,"message":)";
        append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
        line += fmt::format(R"(,"thread":{}}})", msg.thread_id);
        line += '\n';
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

std::unique_ptr<spdlog::formatter> text_formatter() {
    return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %-5l [%n] %v",
                                                       spdlog::pattern_time_type::utc);
}

struct LoggingState {
    std::mutex mutex;
    LogSpec spec;
    LogFormat format = LogFormat::Text;
    spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

LoggingState& state() {
    static LoggingState s;
    return s;
}

spdlog::level::level_enum to_spdlog(LogLevel l) noexcept {
    switch (l) {
        case LogLevel::Trace: return spdlog::level::trace;
        case LogLevel::Debug: return spdlog::level::debug;
        case LogLevel::Info: return spdlog::level::info;
        case LogLevel::Warn: return spdlog::level::warn;
        case LogLevel::Error: return spdlog::level::err;
        case LogLevel::Critical: return spdlog::level::critical;
        case LogLevel::Off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

LogLevel level_of(const LogSpec& spec, std::string_view module) {
    auto it = spec.module_levels.find(module);
    return it == spec.module_levels.end() ? spec.default_level : it->second;
}

void apply(LoggingState& s, spdlog::logger& log) {
    log.set_level(to_spdlog(level_of(s.spec, log.name())));
}

std::optional<LogLevel> parse_level(std::string_view text) {
    static constexpr std::pair<std::string_view, LogLevel> LEVELS[] = {
        {"trace", LogLevel::Trace},       {"debug", LogLevel::Debug},  {"info", LogLevel::Info},
        {"warn", LogLevel::Warn},         {"warning", LogLevel::Warn}, {"error", LogLevel::Error},
        {"critical", LogLevel::Critical}, {"off", LogLevel::Off}};
    for (const auto& [name, level] : LEVELS) {
        if (name == text) {
            return level;
        }
    }
    return std::nullopt;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

std::optional<LogSpec> parse_log_spec(std::string_view spec, std::string* error) {
    LogSpec out;
    bool default_seen = false;
    auto fail = [&](std::string message) -> std::optional<LogSpec> {
        if (error != nullptr) {
            *error = std::move(message);
        }
        return std::nullopt;
    };
    while (true) {
        auto comma = spec.find(',');
        auto part = trim(spec.substr(0, comma));
        if (!part.empty()) {
            auto eq = part.find('=');
            auto level_text = eq == std::string_view::npos ? part : trim(part.substr(eq + 1));
            auto level = parse_level(level_text);
            if (!level) {
                return fail(fmt::format(
                    "unknown log level '{}': expected trace, debug, info, warn, error, critical "
                    "or off",
                    level_text));
            }
            if (eq == std::string_view::npos) {
                if (default_seen) {
                    return fail(fmt::format("two default levels in '{}'", spec));
                }
                default_seen = true;
                out.default_level = *level;
            } else {
                auto module = trim(part.substr(0, eq));
                if (module.empty()) {
                    return fail(fmt::format("missing module name before '=' in '{}'", part));
                }
                out.module_levels[std::string(module)] = *level;
            }
        }
        if (comma == std::string_view::npos) {
            break;
        }
        spec.remove_prefix(comma + 1);
    }
    return out;
}

std::string_view choose_log_spec(std::string_view command_line, const char* environment,
                                 std::string_view config_file) noexcept {
    if (!command_line.empty()) {
        return command_line;
    }
    if (environment != nullptr && *environment != '\0') {
        return environment;
    }
    return config_file;
}

std::optional<LogFormat> parse_log_format(std::string_view text) noexcept {
    if (text == "text") {
        return LogFormat::Text;
    }
    if (text == "json") {
        return LogFormat::Json;
    }
    return std::nullopt;
}

void configure_logging(const LogSpec& spec, LogFormat format) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    s.spec = spec;
    s.format = format;
    if (format == LogFormat::Json) {
        s.sink->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        s.sink->set_formatter(text_formatter());
    }
    for (auto& [name, log] : s.loggers) {
        apply(s, *log);
    }
}

LogLevel log_level(std::string_view module) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    return level_of(s.spec, module);
}

std::shared_ptr<spdlog::logger> logger(std::string_view module) {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (auto it = s.loggers.find(module); it != s.loggers.end()) {
        return it->second;
    }
    if (s.loggers.empty() && s.format == LogFormat::Text) {
        s.sink->set_formatter(text_formatter());
    }
    auto log = std::make_shared<spdlog::logger>(std::string(module), s.sink);
    apply(s, *log);
    s.loggers.emplace(std::string(module), log);
    return log;
}

}  // namespace agentstream
