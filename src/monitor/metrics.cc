#include <agentstream/monitor/metrics.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;

// Histogram percentiles are over this window, from snapshots this far apart.
constexpr Clock::duration HISTOGRAM_WINDOW = 1min;
constexpr Clock::duration HISTOGRAM_STEP = 5s;

const std::vector<MetricSpec>& builtins() {
    static const std::vector<MetricSpec> specs = {
        {"events_total",
         MetricKind::Counter,
         "Events consumed, by topic and event type",
         {"topic", "type"}},
        {"events_produced_total", MetricKind::Counter, "Events produced, by topic", {"topic"}},
        {"processing_latency_ms",
         MetricKind::Histogram,
         "From receiving an event to it being committable, by processor",
         {"processor"},
         0.001},  // recorded in microseconds, read in milliseconds
        {"e2e_latency_ms",
         MetricKind::Histogram,
         "From an event's own timestamp to it being committable, by processor",
         {"processor"},
         0.001},
        {"errors_total", MetricKind::Counter, "Events a component failed on", {"component"}},
        {"error_rate_percent",
         MetricKind::Gauge,
         "Failed events as a percentage of consumed events over the last minute, by component",
         {"component"}},
        {"consumer_lag", MetricKind::Gauge, "Events not yet read, by consumer group", {"group"}},
        {"dead_letters_total", MetricKind::Counter, "Events sent to dead-letter topics", {"topic"}},
        {"active_tasks", MetricKind::Gauge, "Tasks started and not yet ended", {}},
        {"agent_tasks_total",
         MetricKind::Counter,
         "Task attempts by agent and outcome (completed, failed, retried, timed_out)",
         {"agent", "outcome"}},
        {"agent_utilisation_percent",
         MetricKind::Gauge,
         "Share of an agent's capacity in use",
         {"agent"}},
        {"process_cpu_percent", MetricKind::Gauge, "CPU used by this process (100 = one core)", {}},
        {"process_resident_bytes", MetricKind::Gauge, "Resident memory of this process", {}},
        {"network_received_bytes_total",
         MetricKind::Counter,
         "Bytes received from Kafka brokers (librdkafka statistics)",
         {}},
        {"network_sent_bytes_total",
         MetricKind::Counter,
         "Bytes sent to Kafka brokers (librdkafka statistics)",
         {}},
        {"kafka_disconnects_total",
         MetricKind::Counter,
         "Broker connections lost (librdkafka statistics)",
         {}},
        {"kafka_request_retries_total",
         MetricKind::Counter,
         "Requests librdkafka sent again (librdkafka statistics)",
         {}},
        {"fetch_stalls_total",
         MetricKind::Counter,
         "Times a processor's input was found stalled (behind, nothing arriving) and its fetch "
         "restarted",
         {"processor"}},
        {"notifications_total",
         MetricKind::Counter,
         "Notices by channel and outcome (delivered, failed, deduplicated, rate_limited, "
         "dropped)",
         {"channel", "outcome"}},
        {"component_health",
         MetricKind::Gauge,
         "Health of a component: 0 healthy, 1 warning, 2 critical, 3 down",
         {"component"}},
    };
    return specs;
}

constexpr std::string_view READINGS[] = {"",    "rate1m", "rate5m", "p50",
                                         "p95", "p99",    "mean",   "count"};

bool valid_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

bool reading_fits(MetricKind kind, Reading r) {
    switch (kind) {
        case MetricKind::Counter:
            return r == Reading::Value || r == Reading::Rate1m || r == Reading::Rate5m;
        case MetricKind::Gauge: return r == Reading::Value;
        case MetricKind::Histogram:
            return r != Reading::Value && r != Reading::Rate1m && r != Reading::Rate5m;
    }
    return false;
}

std::string escape_label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string label_text(const Labels& labels, std::string_view extra = {}) {
    if (labels.empty() && extra.empty()) {
        return "";
    }
    std::string out = "{";
    for (const auto& [k, v] : labels) {
        if (out.size() > 1) {
            out += ',';
        }
        out += fmt::format("{}=\"{}\"", k, escape_label(v));
    }
    if (!extra.empty()) {
        if (out.size() > 1) {
            out += ',';
        }
        out += extra;
    }
    return out + "}";
}

std::string format_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", v);
}

}  // namespace

std::span<const MetricSpec> builtin_metrics() {
    return builtins();
}

std::string_view to_string(Reading r) noexcept {
    return READINGS[static_cast<std::size_t>(r)];
}

void Counter::set_total(std::uint64_t total) noexcept {
    auto current = _value.load(std::memory_order_relaxed);
    while (total > current &&
           !_value.compare_exchange_weak(current, total, std::memory_order_relaxed)) {
    }
}

struct MetricsRegistry::Impl {
    struct Metric {
        const MetricSpec* spec;
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::deque<std::pair<Clock::time_point, std::uint64_t>> history;  // counters
        // Histograms: snapshots every few seconds over the last minute, and the readings of
        // the last sample (what /metrics shows).
        std::deque<std::pair<Clock::time_point, Histogram::Snapshot>> snapshots;
        std::array<double, 4> windowed{};  // p50, p95, p99, mean
        bool has_windowed = false;
        std::optional<Clock::time_point> first_seen;
        std::uint32_t ids[std::size(READINGS)];
    };
    mutable std::mutex mutex;
    std::map<std::string, std::unique_ptr<MetricSpec>, std::less<>> families;
    std::map<std::string, std::unique_ptr<Metric>, std::less<>> metrics;  // key: name + labels
    std::vector<SeriesInfo> series;

    Metric& get(std::string_view name, Labels labels, MetricKind kind) {
        std::sort(labels.begin(), labels.end());
        auto key = std::string(name) + label_text(labels);
        std::lock_guard lock(mutex);
        if (auto it = metrics.find(key); it != metrics.end()) {
            if (it->second->spec->kind != kind) {
                throw std::invalid_argument(fmt::format("metric '{}' is of another kind", name));
            }
            return *it->second;
        }
        auto f = families.find(name);
        if (f == families.end()) {
            throw std::invalid_argument(fmt::format("metric '{}' is not declared", name));
        }
        const auto& spec = *f->second;
        if (spec.kind != kind) {
            throw std::invalid_argument(fmt::format("metric '{}' is of another kind", name));
        }
        std::vector<std::string> names;
        for (const auto& [k, v] : labels) {
            names.push_back(k);
        }
        auto expected = spec.label_names;
        std::sort(expected.begin(), expected.end());
        if (names != expected) {
            throw std::invalid_argument(fmt::format("metric '{}' has labels [{}]", name,
                                                    fmt::join(spec.label_names, ", ")));
        }
        auto m = std::make_unique<Metric>();
        m->spec = &spec;
        m->labels = std::move(labels);
        switch (kind) {
            case MetricKind::Counter: m->counter = std::make_unique<Counter>(); break;
            case MetricKind::Gauge: m->gauge = std::make_unique<Gauge>(); break;
            case MetricKind::Histogram: m->histogram = std::make_unique<Histogram>(); break;
        }
        for (std::size_t r = 0; r < std::size(READINGS); ++r) {
            auto reading = static_cast<Reading>(r);
            if (!reading_fits(kind, reading)) {
                m->ids[r] = UINT32_MAX;
                continue;
            }
            m->ids[r] = static_cast<std::uint32_t>(series.size());
            auto full = reading == Reading::Value
                            ? spec.name
                            : fmt::format("{}:{}", spec.name, to_string(reading));
            series.push_back({full, spec.name, reading, m->labels});
        }
        auto& ref = *m;
        metrics.emplace(std::move(key), std::move(m));
        return ref;
    }
};

MetricsRegistry::MetricsRegistry() : _impl(std::make_unique<Impl>()) {
    for (const auto& spec : builtins()) {
        declare(spec);
    }
}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::declare(MetricSpec spec) {
    if (!valid_name(spec.name)) {
        throw std::invalid_argument(
            fmt::format("metric name '{}' must match [a-zA-Z_][a-zA-Z0-9_]*", spec.name));
    }
    std::lock_guard lock(_impl->mutex);
    auto it = _impl->families.find(spec.name);
    if (it != _impl->families.end()) {
        if (it->second->kind != spec.kind || it->second->label_names != spec.label_names ||
            it->second->scale != spec.scale) {
            throw std::invalid_argument(
                fmt::format("metric '{}' is already declared differently", spec.name));
        }
        return;
    }
    auto name = spec.name;
    _impl->families.emplace(std::move(name), std::make_unique<MetricSpec>(std::move(spec)));
}

const MetricSpec* MetricsRegistry::family(std::string_view name) const {
    std::lock_guard lock(_impl->mutex);
    auto it = _impl->families.find(name);
    return it == _impl->families.end() ? nullptr : it->second.get();
}

Counter& MetricsRegistry::counter(std::string_view name, Labels labels) {
    return *_impl->get(name, std::move(labels), MetricKind::Counter).counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, Labels labels) {
    return *_impl->get(name, std::move(labels), MetricKind::Gauge).gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, Labels labels) {
    return *_impl->get(name, std::move(labels), MetricKind::Histogram).histogram;
}

std::vector<SeriesValue> MetricsRegistry::sample(Clock::time_point now) {
    std::vector<SeriesValue> out;
    std::lock_guard lock(_impl->mutex);
    for (auto& entry : _impl->metrics) {
        auto& m = entry.second;  // not a structured binding: clang 14 cannot capture one
        auto id = [&](Reading r) { return m->ids[static_cast<std::size_t>(r)]; };
        if (!m->first_seen) {
            m->first_seen = now;
        }
        switch (m->spec->kind) {
            case MetricKind::Gauge: out.push_back({id(Reading::Value), m->gauge->value()}); break;
            case MetricKind::Counter: {
                auto v = m->counter->value();
                out.push_back({id(Reading::Value), static_cast<double>(v)});
                auto& h = m->history;
                h.emplace_back(now, v);
                while (!h.empty() && h.front().first < now - 5min - 10s) {
                    h.pop_front();
                }
                for (auto rw : {std::pair{Reading::Rate1m, Clock::duration(1min)},
                                std::pair{Reading::Rate5m, Clock::duration(5min)}}) {
                    auto [reading, window] = rw;
                    auto since = now - window - window / 50;
                    // Covered: something was recorded at least a window ago (2% slack for a
                    // sampling cadence that drifts).
                    if (now - *m->first_seen < window - window / 50) {
                        continue;
                    }
                    auto from = std::find_if(h.begin(), h.end(),
                                             [since](const auto& p) { return p.first >= since; });
                    if (from == h.end() || from->first >= now) {
                        continue;
                    }
                    double seconds = std::chrono::duration<double>(now - from->first).count();
                    out.push_back({id(reading),
                                   static_cast<double>(v - std::min(v, from->second)) / seconds});
                }
                break;
            }
            case MetricKind::Histogram: {
                // Percentiles and mean over the last minute (a spike ages out; a rule on them
                // resolves); the count is cumulative.
                const auto& hist = *m->histogram;
                auto current = hist.snapshot();
                out.push_back({id(Reading::Count), static_cast<double>(current.count)});
                auto& snaps = m->snapshots;
                while (snaps.size() > 1 && snaps[1].first <= now - HISTOGRAM_WINDOW) {
                    snaps.pop_front();
                }
                // The newest snapshot at least a window old; before there is one, everything
                // recorded since the start (all of it inside the window).
                static const Histogram::Snapshot empty;
                const auto& base = !snaps.empty() && snaps.front().first <= now - HISTOGRAM_WINDOW
                                       ? snaps.front().second
                                       : empty;
                auto n = current.count - std::min(base.count, current.count);
                m->has_windowed = n > 0;
                if (n > 0) {
                    double k = m->spec->scale;
                    m->windowed = {
                        k * static_cast<double>(Histogram::quantile_between(current, base, 0.5)),
                        k * static_cast<double>(Histogram::quantile_between(current, base, 0.95)),
                        k * static_cast<double>(Histogram::quantile_between(current, base, 0.99)),
                        k * static_cast<double>(current.sum - std::min(base.sum, current.sum)) /
                            static_cast<double>(n)};
                    out.push_back({id(Reading::P50), m->windowed[0]});
                    out.push_back({id(Reading::P95), m->windowed[1]});
                    out.push_back({id(Reading::P99), m->windowed[2]});
                    out.push_back({id(Reading::Mean), m->windowed[3]});
                }
                if (snaps.empty() || now - snaps.back().first >= HISTOGRAM_STEP) {
                    snaps.emplace_back(now, std::move(current));
                }
                break;
            }
        }
    }
    return out;
}

SeriesInfo MetricsRegistry::series(std::uint32_t id) const {
    std::lock_guard lock(_impl->mutex);
    return _impl->series.at(id);
}

std::string MetricsRegistry::prometheus_text() const {
    std::lock_guard lock(_impl->mutex);
    std::string out;
    const MetricSpec* current = nullptr;
    for (const auto& [key, m] : _impl->metrics) {
        const auto& spec = *m->spec;
        if (current != &spec) {
            current = &spec;
            out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", spec.name, spec.help, spec.name,
                               spec.kind == MetricKind::Counter ? "counter"
                               : spec.kind == MetricKind::Gauge ? "gauge"
                                                                : "summary");
        }
        switch (spec.kind) {
            case MetricKind::Counter:
                out +=
                    fmt::format("{}{} {}\n", spec.name, label_text(m->labels), m->counter->value());
                break;
            case MetricKind::Gauge:
                out += fmt::format("{}{} {}\n", spec.name, label_text(m->labels),
                                   format_value(m->gauge->value()));
                break;
            case MetricKind::Histogram: {
                const auto& h = *m->histogram;
                if (m->has_windowed) {
                    std::size_t i = 0;
                    for (const char* q : {"0.5", "0.95", "0.99"}) {
                        out += fmt::format("{}{} {}\n", spec.name,
                                           label_text(m->labels, fmt::format("quantile=\"{}\"", q)),
                                           format_value(m->windowed[i++]));
                    }
                }
                out += fmt::format("{}_sum{} {}\n", spec.name, label_text(m->labels),
                                   format_value(spec.scale * static_cast<double>(h.sum())));
                out += fmt::format("{}_count{} {}\n", spec.name, label_text(m->labels), h.count());
                break;
            }
        }
    }
    return out;
}

std::string series_text(std::string_view name, const Labels& labels) {
    std::string out(name);
    if (!labels.empty()) {
        out += "{";
        for (std::size_t i = 0; i < labels.size(); ++i) {
            out += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, labels[i].second);
        }
        out += "}";
    }
    return out;
}

std::optional<std::pair<const MetricSpec*, Reading>> parse_series_name(
    const MetricsRegistry& registry, std::string_view name, std::string* error) {
    auto colon = name.find(':');
    auto family_name = name.substr(0, colon);
    auto reading_name =
        colon == std::string_view::npos ? std::string_view() : name.substr(colon + 1);
    const auto* spec = registry.family(family_name);
    if (spec == nullptr) {
        if (error != nullptr) {
            std::vector<std::string> known;
            for (const auto& m : builtin_metrics()) {
                known.push_back(m.name);
            }
            *error =
                fmt::format("unknown metric '{}'; known: {}", family_name, fmt::join(known, ", "));
        }
        return std::nullopt;
    }
    for (std::size_t r = 0; r < std::size(READINGS); ++r) {
        auto reading = static_cast<Reading>(r);
        if (READINGS[r] == reading_name && reading_fits(spec->kind, reading)) {
            return std::pair{spec, reading};
        }
    }
    if (error != nullptr) {
        *error = fmt::format("'{}' cannot be read as '{}': {}", family_name, name,
                             spec->kind == MetricKind::Counter
                                 ? "a counter is read as NAME, NAME:rate1m or NAME:rate5m"
                             : spec->kind == MetricKind::Gauge
                                 ? "a gauge is read as NAME"
                                 : "a histogram is read as NAME:p50, :p95, :p99, "
                                   ":mean or :count");
    }
    return std::nullopt;
}

}  // namespace agentstream::monitor
