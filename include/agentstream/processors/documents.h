// DocumentStreamProcessor: each document followed from uploaded through processed to analysis
// complete (or error), with processing and analysis times from the events' timestamps,
// per-document-type processing-time percentiles and counts over windows, and an analysis
// request (`task.created`, task type document_analysis) for each uploaded document, for the
// agents. Every number comes from events.
#pragma once

#include <agentstream/processors/tasks.h>

namespace agentstream::processors {

struct DocumentTrackerOptions {
    std::string source = "document_processor";
    std::string analytics_topic = "analytics";
    std::string tasks_topic = "tasks";
    /// Emit a document_analysis task.created for each uploaded document.
    bool request_analysis = true;
    std::chrono::milliseconds state_ttl{std::chrono::hours(24)};
    std::size_t max_documents = 1'000'000;
    std::chrono::milliseconds stats_window{std::chrono::minutes(1)};
};

struct DocumentTrackerStats {
    std::uint64_t uploaded = 0, processed = 0, analysed = 0, failed = 0, analysis_requests = 0,
                  expired = 0, overflow = 0;
    std::size_t tracked = 0;
};

class DocumentTracker {
  public:
    using Clock = std::chrono::system_clock;
    explicit DocumentTracker(DocumentTrackerOptions options = {});
    void on_event(const event::Event& e, Emitted& out);
    /// Forgets documents not heard of for state_ttl (emits nothing).
    void check(Clock::time_point now, Emitted& out);
    DocumentTrackerStats stats() const;

  private:
    struct Document {
        std::string type;
        std::optional<Timestamp> uploaded, processed;
        Timestamp last_seen;
    };
    void metric(const std::string& name, double value, const std::string& type, const char* kind,
                const event::Event& cause, Emitted& out,
                std::initializer_list<std::pair<const char*, std::string>> tags = {});

    DocumentTrackerOptions _options;
    std::unordered_map<std::string, Document> _documents;
    window::WindowedAggregator _times;  // processing time (ms) per document type
    DocumentTrackerStats _stats;
};

}  // namespace agentstream::processors
