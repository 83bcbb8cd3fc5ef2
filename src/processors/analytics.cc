#include <agentstream/core/ids.h>
#include <agentstream/core/time.h>
#include <agentstream/event/factory.h>
#include <agentstream/processors/analytics.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>

#include "processors/derived.h"

namespace agentstream::processors {
namespace {

using detail::json_string;
using detail::time_text;

}  // namespace

std::vector<MetricThreshold> default_thresholds() {
    return {{"error_rate", 10, 20, window::AggregateKind::Avg},
            {"response_time", 5.0, 10.0, window::AggregateKind::Avg},
            {"agent_error", 5, 10, window::AggregateKind::Sum},
            {"task_failed", 3, 5, window::AggregateKind::Sum}};
}

AnalyticsRules::AnalyticsRules(Options options) : _options(std::move(options)) {}

void AnalyticsRules::evaluate(std::string_view service, std::string_view metric,
                              std::string_view window, window::Millis start, window::Millis end,
                              const window::Aggregate& agg, runtime::Emitted& out) {
    auto period = fmt::format("{} .. {}", time_text(start), time_text(end));
    // Thresholds: the first entry whose name the metric contains.
    auto t =
        std::find_if(_options.thresholds.begin(), _options.thresholds.end(),
                     [&](const auto& th) { return metric.find(th.match) != std::string::npos; });
    if (t != _options.thresholds.end()) {
        double value = agg.value(t->aggregate);
        bool critical = value >= t->critical;
        if (critical || value >= t->high) {
            ++_threshold_alerts;
            auto level = critical ? "critical" : "warning";
            auto aggregation = window::to_string(t->aggregate);
            auto message = fmt::format(
                "Threshold exceeded for {} of {}: {} {} = {} over {} ({}; high {}, critical {})",
                metric, service, window, aggregation, value, period, level, t->high, t->critical);
            auto e = event::EventFactory::system_health(
                std::string(service), level, _options.source,
                {{"alert_level", level}, {"alert_message", message}}, {},
                event::EventType::SystemAlert);
            if (metric.find("error_rate") != std::string::npos && value >= 0 && value <= 100) {
                e.set("error_rate", value);
            }
            e.set_extra("alert_type", event::RawJson{"\"threshold_exceeded\""});
            e.set_extra("evidence",
                        event::RawJson{fmt::format(
                            "{{\"metric_name\":{},\"window\":{},\"aggregation\":{},\"value\":{},"
                            "\"threshold_type\":\"{}\",\"high\":{},\"critical\":{},"
                            "\"window_start\":\"{}\",\"window_end\":\"{}\",\"count\":{}}}",
                            json_string(metric), json_string(window), json_string(aggregation),
                            value, critical ? "critical" : "high", t->high, t->critical,
                            time_text(start), time_text(end), agg.count())});
            out.emplace_back(_options.alerts_topic, std::move(e));
        }
    }
    // Anomalies: the series' window average against its own recent history.
    auto series = fmt::format("{}\x1f{}", service, metric);
    auto it = _detectors.find(series);
    if (it == _detectors.end()) {
        if (_detectors.size() >= _options.max_series) {
            return;
        }
        it = _detectors.emplace(series, RobustZScore(_options.anomaly)).first;
    }
    double value = agg.avg();
    auto v = it->second.observe(value);
    if (!v.anomaly) {
        return;
    }
    ++_anomalies;
    double magnitude = std::abs(v.z);
    double confidence = std::clamp(1.0 - 0.5 * _options.anomaly.threshold / magnitude, 0.5, 0.99);
    auto impact = magnitude >= 20 ? "high" : magnitude >= 8 ? "medium" : "low";
    auto direction = v.z > 0 ? "above" : "below";
    auto finding = fmt::format(
        "{} of {} averaged {} over {}, {} its median {} of the last {} windows (MAD {}, robust "
        "z-score {:.1f})",
        metric, service, value, period, direction, v.median, v.points, v.mad, v.z);
    auto insight = event::EventFactory::business_insight(
        new_uuid(), "anomaly", confidence, fmt::format("Anomaly in {} of {}", metric, service),
        finding, {finding}, {_options.input_topic}, impact, _options.source, "real-time",
        _options.source,
        {{"metrics_analyzed", event::StringList{std::string(metric)}},
         {"affected_areas", event::StringList{std::string(service)}},
         {"analysis_period", period}});
    auto evidence = fmt::format(
        "{{\"metric_name\":{},\"service\":{},\"window\":{},\"value\":{},\"median\":{},\"mad\":{},"
        "\"z\":{},\"history\":{},\"threshold\":{},\"window_start\":\"{}\",\"window_end\":\"{}\"}}",
        json_string(metric), json_string(service), json_string(window), value, v.median, v.mad, v.z,
        v.points, _options.anomaly.threshold, time_text(start), time_text(end));
    insight.set_extra("evidence", event::RawJson{evidence});
    auto alert = event::EventFactory::system_health(
        std::string(service), "warning", _options.source,
        {{"alert_level", "warning"}, {"alert_message", "Anomaly: " + finding}}, {},
        event::EventType::SystemAlert);
    alert.set_extra("alert_type", event::RawJson{"\"anomaly\""});
    alert.set_extra("evidence", event::RawJson{evidence});
    out.emplace_back(_options.insights_topic, std::move(insight));
    out.emplace_back(_options.alerts_topic, std::move(alert));
}

struct AnalyticsStreamProcessor::Impl {
    std::unique_ptr<AnalyticsRules> rules;
    std::atomic<std::uint64_t> threshold_alerts{0};
    std::atomic<std::uint64_t> anomalies{0};
};

namespace {

std::unique_ptr<AnalyticsStreamProcessor::Impl> analytics_state(const AnalyticsOptions& o) {
    if (o.windows.empty() || o.judged_window >= o.windows.size()) {
        throw std::invalid_argument("analytics processor: judged_window must name a window");
    }
    AnalyticsRules::Options ro;
    ro.source = o.name;
    ro.alerts_topic = o.alerts_topic;
    ro.insights_topic = o.insights_topic;
    ro.input_topic = o.input_topic;
    ro.thresholds = o.thresholds;
    ro.anomaly = o.anomaly;
    auto impl = std::make_unique<AnalyticsStreamProcessor::Impl>();
    impl->rules = std::make_unique<AnalyticsRules>(ro);
    return impl;
}

}  // namespace

runtime::WindowedAggregationOptions AnalyticsStreamProcessor::window_options(
    const AnalyticsOptions& o, Impl& state) {
    runtime::WindowedAggregationOptions wo;
    wo.name = o.name;
    wo.client = o.client;
    wo.consumer_properties = o.consumer_properties;
    wo.producer_properties = o.producer_properties;
    wo.producer = o.producer;
    wo.input_topic = o.input_topic;
    wo.event_types = {"analytics.metric.update"};
    wo.key_fields = {"service", "metric_name"};
    wo.value_field = "metric_value";
    for (auto size : o.windows) {
        auto spec = window::WindowSpec::tumbling(size);
        spec.out_of_orderness = o.out_of_orderness;
        spec.allowed_lateness = o.allowed_lateness;
        spec.aggregates.percentiles = true;
        wo.windows.push_back(spec);
    }
    wo.aggregations = {window::AggregateKind::Avg, window::AggregateKind::Count,
                       window::AggregateKind::Sum, window::AggregateKind::Min,
                       window::AggregateKind::Max, window::AggregateKind::P95};
    wo.output_topic = o.metrics_topic;
    wo.late_topic = o.late_topic;
    wo.changelog_topic = o.changelog_topic;
    wo.dead_letter_topic = o.dead_letter_topic;
    wo.metric_name_key_field = "metric_name";  // results keep their metric's name
    wo.checkpoint_interval = o.checkpoint_interval;
    wo.idle_timeout = o.idle_timeout;
    wo.start_from = o.start_from;
    wo.checkpoint_on_stop = o.checkpoint_on_stop;
    wo.guarantee = o.guarantee;
    wo.metrics = o.metrics;
    auto judged = o.judged_window;
    auto* impl = &state;
    wo.on_result = [impl, judged](const runtime::WindowedResult& r, runtime::Emitted& out) {
        if (!r.result.final || r.window_index != judged || r.key_values.size() < 2) {
            return;
        }
        impl->rules->evaluate(r.key_values[0], r.key_values[1], r.label, r.result.start,
                              r.result.end, r.result.aggregate, out);
        impl->threshold_alerts.store(impl->rules->threshold_alerts());
        impl->anomalies.store(impl->rules->anomalies());
    };
    return wo;
}

AnalyticsStreamProcessor::AnalyticsStreamProcessor(AnalyticsOptions o)
    : AnalyticsStreamProcessor(analytics_state(o), o) {}

AnalyticsStreamProcessor::AnalyticsStreamProcessor(std::unique_ptr<Impl> state,
                                                   const AnalyticsOptions& o)
    : runtime::WindowedAggregation(window_options(o, *state)), _impl(std::move(state)) {}

AnalyticsStreamProcessor::~AnalyticsStreamProcessor() = default;

std::uint64_t AnalyticsStreamProcessor::threshold_alerts() const {
    return _impl->threshold_alerts.load();
}

std::uint64_t AnalyticsStreamProcessor::anomalies() const {
    return _impl->anomalies.load();
}

}  // namespace agentstream::processors
