#include <agentstream/monitor/progress_health.h>

#include <fmt/format.h>

namespace agentstream::monitor {

using namespace std::chrono_literals;

ComponentHealth ProgressHealth::observe(const std::string& component, TimePoint now,
                                        const ProgressCounters& p) {
    _history.push_back({now, p.consumed, p.dead_lettered, p.lag});
    while (_history.size() > 2 && _history[1].at <= now - 60s) {
        _history.pop_front();
    }
    const auto& first = _history.front();
    // A minute of history (ticks are about a second apart: allow for their jitter).
    bool minute = now - first.at >= 55s;
    if (!p.healthy) {
        return {component, HealthStatus::Critical, "waiting for the brokers"};
    }
    if (minute && p.lag > 0 && p.consumed == first.consumed) {
        return {component, HealthStatus::Warning,
                fmt::format("stalled: lag {}, nothing consumed for a minute", p.lag)};
    }
    if (minute && first.lag >= 0 && p.lag > first.lag && p.lag - first.lag >= 1000 &&
        p.lag >= 2 * first.lag) {
        return {component, HealthStatus::Warning,
                fmt::format("falling behind: lag grew from {} to {} in the last minute", first.lag,
                            p.lag)};
    }
    if (p.dead_lettered > first.dead_lettered) {
        return {component, HealthStatus::Warning,
                fmt::format("{} dead letter(s) in the last minute",
                            p.dead_lettered - first.dead_lettered)};
    }
    if (p.rebalances == 0) {
        return {component, HealthStatus::Warning, "waiting for partitions from the group"};
    }
    return {component, HealthStatus::Healthy, "making progress"};
}

}  // namespace agentstream::monitor
