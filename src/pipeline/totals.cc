#include <agentstream/pipeline/totals.h>

#include <algorithm>

namespace agentstream::pipeline {

void Totals::add(const router::RouterMetrics& m) {
    router.events += m.events;
    router.unmatched += m.unmatched;
    router.to_default += m.to_default;
    router.errors += m.errors;
    for (const auto& r : m.routes) {
        auto it = std::find_if(router.routes.begin(), router.routes.end(),
                               [&](const auto& t) { return t.name == r.name; });
        if (it == router.routes.end()) {
            router.routes.push_back(r);
            continue;
        }
        it->matched += r.matched;
        it->delivered += r.delivered;
        it->filtered_out += r.filtered_out;
        it->missing_path += r.missing_path;
        it->type_mismatch += r.type_mismatch;
        it->transform_errors += r.transform_errors;
        it->duplicates_skipped += r.duplicates_skipped;
        if (r.latency_samples > 0) {  // the latest table's
            it->latency_p50_ns = r.latency_p50_ns;
            it->latency_p99_ns = r.latency_p99_ns;
        }
        it->latency_samples += r.latency_samples;
    }
}

void Totals::add(const runtime::ProcessorMetrics& m) {
    processor.consumed += m.consumed;
    processor.processed += m.processed;
    processor.unhandled += m.unhandled;
    processor.dead_lettered += m.dead_lettered;
    processor.failed += m.failed;
    processor.rebalances += m.rebalances;
    processor.lost += m.lost;
    processor.truncated_dead_letters += m.truncated_dead_letters;
    processor.unfinished_at_stop += m.unfinished_at_stop;
    processor.fetch_stalls += m.fetch_stalls;
    processor.produced += m.produced;
    processor.latency_p50_us = m.latency_p50_us;  // the running processor's
    processor.latency_p95_us = m.latency_p95_us;
    processor.latency_p99_us = m.latency_p99_us;
    processor.e2e_p50_us = m.e2e_p50_us;
    processor.e2e_p95_us = m.e2e_p95_us;
    processor.e2e_p99_us = m.e2e_p99_us;
    processor.retried += m.retried;
    processor.transactions += m.transactions;
    processor.aborted_transactions += m.aborted_transactions;
    processor.backpressure_pauses += m.backpressure_pauses;
    processor.in_flight = m.in_flight;
    processor.assigned_partitions = m.assigned_partitions;
    processor.lag = m.lag;
    processor.healthy = m.healthy;
    processor.health = m.health;
}

Totals Totals::with(const router::RouterMetrics& r, const runtime::ProcessorMetrics& p) const {
    Totals t = *this;
    t.add(r);
    t.add(p);
    return t;
}

}  // namespace agentstream::pipeline
