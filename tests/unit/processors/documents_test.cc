// Documents followed through their lifecycle: times from the events, an analysis task per
// upload (correlated, deterministic id), windowed percentiles per document type, errors with
// their stage, expiry; every event valid.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/validation.h>
#include <agentstream/processors/documents.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/processor_helpers.h"

namespace agentstream::processors {
namespace {

using namespace std::chrono_literals;
using testing::expect_valid;
using ::testing::HasSubstr;
using testing::metrics_of;

using testing::T0;

event::Event doc(event::EventType type, const std::string& id, Timestamp at,
                 const event::Fields& extra = {}) {
    auto e = event::EventFactory::document(type, id, "test", extra);
    e.set_timestamp(at);
    return e;
}

TEST(DocumentTracker, UploadAsksForAnalysisAndTimesComeFromTheEvents) {
    DocumentTracker tracker;
    Emitted out;
    auto up =
        doc(event::EventType::DocumentUploaded, "d1", T0,
            {{"document_type", "pdf"}, {"document_name", "q3.pdf"}, {"file_path", "/in/q3.pdf"}});
    tracker.on_event(up, out);
    ASSERT_EQ(out.size(), 2U);
    const auto& task = out[1].second;
    EXPECT_EQ(out[1].first, "tasks");
    EXPECT_EQ(task.type(), event::EventType::TaskCreated);
    EXPECT_EQ(task.string("task_id"), "analyze-d1");
    EXPECT_EQ(task.string("task_type"), "document_analysis");
    EXPECT_EQ(task.correlation_id(), up.id());
    EXPECT_THAT(event::encode(task), HasSubstr("\"file_path\":\"/in/q3.pdf\""));
    out.clear();
    tracker.on_event(doc(event::EventType::DocumentProcessed, "d1", T0 + 1500ms), out);
    EXPECT_EQ(metrics_of(out)["document_processing_time_ms"], 1500);
    out.clear();
    tracker.on_event(doc(event::EventType::DocumentAnalysisComplete, "d1", T0 + 4s), out);
    EXPECT_EQ(metrics_of(out)["document_analysis_time_ms"], 4000);
    EXPECT_EQ(out[0].second.string("service"), "document_processor:pdf");
    expect_valid(out);
    EXPECT_EQ(tracker.stats().tracked, 0U);
}

TEST(DocumentTracker, ProcessingTimePercentilesPerTypeOverWindows) {
    DocumentTracker tracker;
    Emitted out;
    for (int i = 0; i < 100; ++i) {
        auto id = "d" + std::to_string(i);
        tracker.on_event(doc(event::EventType::DocumentUploaded, id, T0 + i * 100ms,
                             {{"document_type", "docx"}}),
                         out);
        tracker.on_event(
            doc(event::EventType::DocumentProcessed, id, T0 + i * 100ms + (i + 1) * 10ms), out);
    }
    out.clear();
    // Minute 2: closes minute 0's window.
    tracker.on_event(
        doc(event::EventType::DocumentUploaded, "x", T0 + 130s, {{"document_type", "docx"}}), out);
    tracker.on_event(doc(event::EventType::DocumentProcessed, "x", T0 + 131s), out);
    auto m = metrics_of(out);
    EXPECT_EQ(m["documents_processed_per_window"], 100);
    EXPECT_NEAR(m["document_processing_time_p50_ms"], 500, 10);  // 10..1000 ms
    EXPECT_NEAR(m["document_processing_time_p99_ms"], 990, 15);
    expect_valid(out);
}

TEST(DocumentTracker, ErrorsCarryTheirStageAndIdleDocumentsExpire) {
    DocumentTracker tracker;
    Emitted out;
    tracker.on_event(doc(event::EventType::DocumentUploaded, "bad", T0), out);
    tracker.on_event(
        doc(event::EventType::DocumentError, "bad", T0 + 1s, {{"processing_stage", "ocr"}}), out);
    EXPECT_THAT(event::encode(out.back().second), HasSubstr("\"stage\":\"ocr\""));
    EXPECT_EQ(tracker.stats().failed, 1U);
    tracker.on_event(doc(event::EventType::DocumentUploaded, "idle", T0), out);
    tracker.check(T0 + 25h, out);
    EXPECT_EQ(tracker.stats().expired, 1U);
    EXPECT_EQ(tracker.stats().tracked, 0U);
}

}  // namespace
}  // namespace agentstream::processors
