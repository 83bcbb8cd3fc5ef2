// Helpers for the domain processors' unit tests: the metrics a tracker emitted, and a check
// that every emitted event is a valid catalogue event.
#pragma once

#include <agentstream/event/codec.h>
#include <agentstream/event/validation.h>
#include <agentstream/processors/tasks.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

namespace agentstream::testing {

/// A fixed event time the trackers' tests count from.
inline const Timestamp T0 = Timestamp(std::chrono::hours(24 * 365 * 57));

/// metric_name -> metric_value of the analytics.metric.update events (the last of each name).
inline std::map<std::string, double> metrics_of(const processors::Emitted& out) {
    std::map<std::string, double> m;
    for (const auto& [topic, e] : out) {
        if (e.type() == event::EventType::AnalyticsMetricUpdate) {
            m[std::string(*e.string("metric_name"))] = *e.number("metric_value");
        }
    }
    return m;
}

inline void expect_valid(const processors::Emitted& out) {
    for (const auto& [topic, e] : out) {
        EXPECT_TRUE(event::validate(e).empty()) << topic << ": " << event::encode(e);
    }
}

}  // namespace agentstream::testing
