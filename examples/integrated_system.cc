// The integrated system (design "create_integrated_streaming_system"): routes, the domain
// processors, an agent service with a document analyzer, the monitor and its HTTP API, as one
// pipeline::Application built from a configuration written in code. A document upload is
// routed, the document processor asks for its analysis, the analyzer reads the file and
// publishes the result.
#include <agentstream/config/config.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/pipeline/application.h>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

using namespace std::chrono_literals;
namespace as = agentstream;
namespace fs = std::filesystem;

int main() {
    auto docs = fs::temp_directory_path() / fmt::format("agentstream-example-{}", ::getpid());
    fs::create_directories(docs);
    std::ofstream(docs / "q3.txt") << "Revenue grew in the third quarter. Customers renewed "
                                      "early. The new product sold well in every region.";

    auto config = as::config::Config::parse(fmt::format(R"(
topics: {{documents: 2, document_processing: 2, tasks: 2, agents: 2, analytics: 2, metrics: 2,
          alerts: 1, notifications: 1, insights: 1, quality: 1}}
routing: {{name: integrated_dispatcher, mode: fanout}}
routes:
  - name: document_to_processing
    source_topics: [documents]
    target_topics: [document_processing, analytics]
    event_types: [document.uploaded, document.processed]
    transformations: [add_routing_metadata]
processors:
  documents: {{input: documents, tasks: tasks}}
  tasks: {{input: tasks}}
agents:
  tasks: tasks
  events: agents
  results: {{document: documents, quality: quality, business_insight: insights}}
  document_roots: ["{}"]
  list:
    - {{id: document-analyzer-1, type: document_analyzer, max_concurrency: 2}}
http: {{port: 0}}
)",
                                                        docs.string()),
                                            "integrated_system");

    as::pipeline::ApplicationOptions options;
    options.connection.quiet = true;
    options.status_interval = 0ms;
    as::pipeline::Application app(as::pipeline::PipelineSpec::from(std::move(config)), options);

    std::atomic<bool> started{false};
    std::string brokers, url;
    std::atomic<std::uint64_t> published{0};
    as::pipeline::ApplicationHooks hooks;
    hooks.started = [&](const as::pipeline::ApplicationView& v) {
        brokers = v.connection.brokers();
        url = v.monitor.url().value_or("");
        started = true;
    };
    hooks.tick = [&](const as::pipeline::ApplicationView& v) {
        if (auto agents = v.domain.agent_service()) {
            published = agents->stats().published;
        }
        return true;
    };
    as::pipeline::ApplicationSummary summary;
    std::thread runner([&] { summary = app.run(hooks); });
    while (!started) {
        std::this_thread::sleep_for(20ms);
    }
    fmt::print("integrated system running on {}; monitor API at {}\n", brokers, url);
    {
        as::kafka::ProducerOptions po;
        po.brokers = brokers;
        as::kafka::Producer producer(po);
        auto upload = as::event::EventFactory::document(
            as::event::EventType::DocumentUploaded, "doc-q3", "example",
            {{"file_path", (docs / "q3.txt").string()}, {"document_type", "txt"}});
        if (!producer.send("documents", upload).ok() || !producer.flush(10s)) {
            return EXIT_FAILURE;
        }
    }
    // The analyzer's task lifecycle and its document.processed result are published.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (published < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    app.stop();
    runner.join();
    fs::remove_all(docs);
    const auto& t = summary.totals;
    fmt::print("router: consumed {}, routed {}; the agent service published {} event(s)\n",
               t.processor.consumed, t.processor.processed, published.load());
    return published >= 3 && t.processor.consumed >= 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
