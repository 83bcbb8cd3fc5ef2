#include <agentstream/core/time.h>
#include <agentstream/event/factory.h>
#include <agentstream/processors/documents.h>

#include <fmt/format.h>

#include "internal/json_escape.h"
#include "processors/derived.h"

namespace agentstream::processors {
namespace {

using detail::json_string;
using detail::ms_between;

using namespace std::chrono_literals;

window::WindowSpec stats_window(std::chrono::milliseconds size) {
    auto spec = window::WindowSpec::tumbling(size);
    spec.out_of_orderness = 5s;
    spec.aggregates.percentiles = true;
    return spec;
}

}  // namespace

DocumentTracker::DocumentTracker(DocumentTrackerOptions options)
    : _options(std::move(options)), _times(stats_window(_options.stats_window)) {}

void DocumentTracker::metric(const std::string& name, double value, const std::string& type,
                             const char* kind, const event::Event& cause, Emitted& out,
                             std::initializer_list<std::pair<const char*, std::string>> tags) {
    out.emplace_back(_options.analytics_topic,
                     detail::metric_event(_options.source, name, value, kind, "document_type", type,
                                          cause, tags));
}

void DocumentTracker::on_event(const event::Event& e, Emitted& out) {
    auto id_view = e.string("document_id");
    if (!id_view) {
        return;
    }
    std::string id(*id_view);
    auto ts = e.timestamp();
    auto it = _documents.find(id);
    std::string type = it != _documents.end() && !it->second.type.empty()
                           ? it->second.type
                           : std::string(e.string("document_type").value_or("unknown"));
    auto track = [&]() -> Document* {
        if (it == _documents.end()) {
            if (_documents.size() >= _options.max_documents) {
                ++_stats.overflow;
                return nullptr;
            }
            it = _documents.emplace(id, Document{type, {}, {}, ts}).first;
        }
        it->second.last_seen = ts;
        return &it->second;
    };
    switch (e.type()) {
        case event::EventType::DocumentUploaded: {
            ++_stats.uploaded;
            if (auto* d = track()) {
                d->uploaded = ts;
            }
            metric("document_uploaded", 1, type, "counter", e, out, {{"document_id", id}});
            if (_options.request_analysis) {
                // A deterministic task id: a replayed upload asks for the same task again.
                std::string task_data = "{\"document_id\":" + json_string(id);
                for (const char* f : {"document_name", "file_path", "document_type"}) {
                    if (auto v = e.string(f)) {
                        task_data += fmt::format(",\"{}\":{}", f, json_string(*v));
                    }
                }
                if (auto v = e.string("content_preview")) {
                    task_data += ",\"content\":" + json_string(*v);
                }
                task_data += "}";
                auto task = event::EventFactory::task(
                    event::EventType::TaskCreated, "analyze-" + id, "document_analysis",
                    _options.source,
                    {{"requester_id", _options.source}, {"task_data", event::RawJson{task_data}}});
                task.set_priority(e.priority());
                task.set_correlation_id(e.correlation_id() ? e.correlation_id()
                                                           : std::optional<std::string>(e.id()));
                task.set_causation_id(e.id());
                out.emplace_back(_options.tasks_topic, std::move(task));
                ++_stats.analysis_requests;
            }
            break;
        }
        case event::EventType::DocumentProcessed: {
            ++_stats.processed;
            auto* d = track();
            std::optional<double> took;
            if (auto x = e.integer("processing_time_ms")) {
                took = static_cast<double>(*x);
            } else if (d != nullptr && d->uploaded) {
                took = static_cast<double>(ms_between(*d->uploaded, ts));
            }
            if (d != nullptr) {
                d->processed = ts;
            }
            metric("document_processed", 1, type, "counter", e, out, {{"document_id", id}});
            if (took) {
                metric("document_processing_time_ms", *took, type, "gauge", e, out,
                       {{"document_id", id}});
                std::vector<window::WindowResult> closed;
                _times.add(
                    type,
                    std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch())
                        .count(),
                    *took, closed);
                for (const auto& r : closed) {
                    auto bounds = detail::window_bounds(r);
                    metric("documents_processed_per_window",
                           static_cast<double>(r.aggregate.count()), r.key, "gauge", e, out,
                           {{"window", bounds}});
                    for (auto k : {window::AggregateKind::P50, window::AggregateKind::P95,
                                   window::AggregateKind::P99}) {
                        metric(fmt::format("document_processing_time_{}_ms", window::to_string(k)),
                               r.aggregate.value(k), r.key, "summary", e, out,
                               {{"window", bounds}});
                    }
                }
            }
            break;
        }
        case event::EventType::DocumentAnalysisComplete: {
            ++_stats.analysed;
            if (it != _documents.end() && it->second.uploaded) {
                metric("document_analysis_time_ms",
                       static_cast<double>(ms_between(*it->second.uploaded, ts)), type, "gauge", e,
                       out, {{"document_id", id}});
            }
            metric("document_analyzed", 1, type, "counter", e, out, {{"document_id", id}});
            if (it != _documents.end()) {
                _documents.erase(it);
            }
            break;
        }
        case event::EventType::DocumentError: {
            ++_stats.failed;
            std::string stage = std::string(e.string("processing_stage").value_or("unknown"));
            metric("document_failed", 1, type, "counter", e, out,
                   {{"document_id", id}, {"stage", stage}});
            if (it != _documents.end()) {
                _documents.erase(it);
            }
            break;
        }
        default: break;
    }
}

void DocumentTracker::check(Clock::time_point now, Emitted&) {
    std::erase_if(_documents, [&](const auto& entry) {
        bool old = now - entry.second.last_seen >= _options.state_ttl;
        _stats.expired += old ? 1 : 0;
        return old;
    });
}

DocumentTrackerStats DocumentTracker::stats() const {
    auto s = _stats;
    s.tracked = _documents.size();
    return s;
}

}  // namespace agentstream::processors
