// The agent service on the embedded broker: tasks from their topic go through the orchestrator
// to built-in and external (command) agents; lifecycle, agent and result events come out with
// real timings, completions are notified, bad records are dead-lettered, unknown task types
// fail at once, retries and timeouts behave, and inputs are committed only once done.
#include <agentstream/agents/builtin.h>
#include <agentstream/agents/external.h>
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/agent_service.h>
#include <agentstream/runtime/dead_letter.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "support/runtime_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

processors::AgentServiceOptions service_options(const EmbeddedBroker& broker) {
    processors::AgentServiceOptions o;
    o.client.brokers = broker.bootstrap_servers();
    o.producer_properties = EmbeddedBroker::producer_tuning();
    o.consumer_properties = EmbeddedBroker::consumer_tuning();
    o.orchestrator.retry_backoff = 50ms;
    return o;
}

void send_task(kafka::Producer& producer, const std::string& id, const std::string& type,
               const nlohmann::json& data, event::Priority priority = event::Priority::Medium) {
    event::EnvelopeOptions env;
    env.priority = priority;
    env.correlation_id = "corr-" + id;
    auto e = event::EventFactory::task(
        event::EventType::TaskCreated, id, type, "test",
        {{"task_data", event::RawJson{data.dump()}}, {"requester_id", "alice"}}, env);
    ASSERT_TRUE(producer.send("tasks", e).ok());
}

// Every event of a topic, decoded, in partition order (records that are no event skipped).
std::vector<event::Event> events_of(const EmbeddedBroker& broker, const std::string& topic,
                                    int partitions, std::size_t expected) {
    std::vector<event::Event> out;
    testing::read_all(broker, topic, partitions, expected, [&](const kafka::Message& m) {
        if (auto e = event::decode(m.value()); e.ok()) {
            out.push_back(std::move(e).value());
        }
    });
    return out;
}

struct AgentServiceTest : ::testing::Test {
    EmbeddedBroker broker;
    fs::path dir;
    void SetUp() override {
        for (const char* t : {"tasks", "documents", "agents", "quality", "insights", "tasks.dlq",
                              "documents.dlq"}) {
            broker.create_topic(t, std::string(t) == "tasks" ? 2 : 1);
        }
        dir = fs::temp_directory_path() / ("agents_it_" + std::to_string(::getpid()));
        fs::create_directories(dir);
        std::ofstream(dir / "report.txt")
            << "Revenue grew in the third quarter. Customers renewed their contracts early. "
               "The new product sold well in every region.";
    }
    void TearDown() override { fs::remove_all(dir); }
};

TEST_F(AgentServiceTest, TasksFlowThroughAgentsToResultEventsAndNotifications) {
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        send_task(producer, "analyse-1", "document_analysis",
                  {{"file_path", (dir / "report.txt").string()}, {"document_id", "doc-1"}});
        nlohmann::json values = nlohmann::json::array();
        for (int i = 0; i < 12; ++i) {
            values.push_back(100 + 10 * i);
        }
        send_task(producer, "insight-1", "business_insight",
                  {{"metric", "revenue"}, {"values", values}}, event::Priority::High);
        send_task(producer, "translate-1", "translation", {{"text", "hola"}});
        ASSERT_TRUE(producer.send("tasks", "k", "{not json").ok());
        auto upload = event::EventFactory::document(
            event::EventType::DocumentUploaded, "doc-2", "test",
            {{"file_path", (dir / "report.txt").string()}, {"document_type", "txt"}});
        ASSERT_TRUE(producer.send("documents", upload).ok());
        producer.flush(10s);
    }
    auto notices = dir / "notices.jsonl";
    notify::ChannelSpec file;
    file.name = "file";
    file.type = notify::ChannelType::File;
    file.path = notices.string();
    auto notifications =
        std::make_shared<notify::NotificationService>(std::vector<notify::ChannelSpec>{file});

    auto o = service_options(broker);
    o.documents_topic = "documents";
    o.notifications = [notifications] { return notifications; };
    agents::DocumentAnalyzerOptions ao;
    ao.roots = {dir};
    processors::AgentService service(o, {std::make_shared<agents::DocumentAnalyzerAgent>(ao),
                                         std::make_shared<agents::BusinessIntelligenceAgent>()});
    ASSERT_TRUE(testing::run_until(service,
                                   [&] {
                                       auto s = service.stats();
                                       return s.tasks == 3 && s.pending == 0 &&
                                              s.unassignable == 1 && s.dead_lettered == 1;
                                   }))
        << "tasks " << service.stats().tasks << " pending " << service.stats().pending;
    notifications->flush(5s);

    // The lifecycle of each task, in order, with real timings.
    std::map<std::string, std::vector<event::Event>> by_task;
    for (auto& e : events_of(broker, "tasks", 2, 4 + 4 + 2 + 1 + 3)) {
        by_task[std::string(*e.string("task_id"))].push_back(std::move(e));
    }
    for (const char* id : {"analyse-1", "insight-1"}) {
        const auto& events = by_task[id];
        std::vector<event::EventType> types;
        for (const auto& e : events) {
            types.push_back(e.type());
        }
        EXPECT_THAT(types, ::testing::ElementsAre(
                               event::EventType::TaskCreated, event::EventType::TaskAssigned,
                               event::EventType::TaskStarted, event::EventType::TaskCompleted))
            << id;
        const auto& done = events.back();
        EXPECT_EQ(done.correlation_id(), std::string("corr-") + id);
        EXPECT_GE(*done.integer("execution_time_ms"), 0);
        EXPECT_TRUE(done.string("agent_id").has_value());
        EXPECT_TRUE(event::validate(done).empty());
    }
    EXPECT_THAT(event::encode(by_task["analyse-1"].back()),
                HasSubstr("\"result_data\":{\"characters\""));
    EXPECT_EQ(by_task["analyze-doc-2"].size(), 3U) << "the upload became a task";
    ASSERT_EQ(by_task["translate-1"].size(), 2U);
    EXPECT_EQ(by_task["translate-1"][1].type(), event::EventType::TaskFailed);
    EXPECT_THAT(std::string(*by_task["translate-1"][1].string("error_message")),
                HasSubstr("no agent can do tasks of type 'translation'"));

    // Agent activity and results on their topics.
    std::map<std::string, int> agent_events;
    for (const auto& e : events_of(broker, "agents", 1, 10)) {
        ++agent_events[std::string(event::to_string(e.type())) + ":" +
                       std::string(*e.string("agent_id"))];
    }
    EXPECT_EQ((agent_events["agent.task.started:document-analyzer-1"]), 2);
    EXPECT_EQ((agent_events["agent.task.completed:document-analyzer-1"]), 2);
    EXPECT_EQ((agent_events["agent.task.completed:bi-agent-1"]), 1);
    EXPECT_GE((agent_events["agent.status.changed:bi-agent-1"]), 2) << "idle, working, idle";
    auto analyses = events_of(broker, "documents", 1, 3);
    int analysed = 0;
    for (const auto& e : analyses) {
        analysed += e.type() == event::EventType::DocumentAnalysisComplete ? 1 : 0;
    }
    EXPECT_EQ(analysed, 2);
    auto insights = events_of(broker, "insights", 1, 1);
    ASSERT_EQ(insights.size(), 1U);
    EXPECT_EQ(insights[0].string("insight_type"), "opportunity");
    EXPECT_EQ(insights[0].correlation_id(), "corr-insight-1");

    // The bad record, byte for byte, with why.
    std::size_t dead = testing::read_all(broker, "tasks.dlq", 1, 1, [](const kafka::Message& m) {
        EXPECT_EQ(m.value(), "{not json");
        EXPECT_EQ(runtime::read_dead_letter(m).source_topic, "tasks");
    });
    EXPECT_EQ(dead, 1U);

    // Notified: each completion and the failure.
    std::ifstream in(notices);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(all, HasSubstr("\"related_task_id\":\"analyse-1\""));
    EXPECT_THAT(all, HasSubstr("\"related_task_id\":\"insight-1\""));
    EXPECT_THAT(all, HasSubstr("translate-1"));

    // Committed: the same group starting again finds nothing to do (it may read the lifecycle
    // events the first one published after its last read: they are no work). So that "nothing"
    // is seen, not assumed: one event it ignores goes to the end of each partition, and the
    // check waits until it has read every record after the group's commits, on both topics the
    // group reads (the analyses the first one published to `documents` after its last read
    // are uncommitted too: counting `tasks` alone failed under load).
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        for (std::int32_t p = 0; p < 2; ++p) {
            auto e = event::EventFactory::task(event::EventType::TaskStarted, "sentinel", "none",
                                               "test");
            ASSERT_TRUE(
                producer.send("tasks", event::record_key(e), event::encode(e), {}, {}, p).ok());
        }
        ASSERT_TRUE(producer.flush(10s));
    }
    std::int64_t uncommitted = 0;
    for (const auto& row : kafka::Admin({.brokers = broker.bootstrap_servers()})
                               .group_lag(o.name, {"tasks", "documents"})) {
        ASSERT_GE(row.lag, 0) << "the end of " << row.topic << " [" << row.partition
                              << "] is known";
        uncommitted += row.lag;
    }
    ASSERT_GE(uncommitted, 2) << "the sentinels are after the group's commits";
    processors::AgentService again(o, {std::make_shared<agents::DocumentAnalyzerAgent>(ao)});
    EXPECT_TRUE(testing::run_until(
        again, [&] { return again.stats().consumed >= static_cast<std::uint64_t>(uncommitted); }))
        << "read " << again.stats().consumed << " of the " << uncommitted << " uncommitted";
    EXPECT_EQ(again.stats().consumed, static_cast<std::uint64_t>(uncommitted));
    EXPECT_EQ(again.stats().tasks, 0U);
    EXPECT_EQ(again.stats().duplicates, 0U);
    EXPECT_EQ(again.stats().consumed, again.stats().ignored);
}

TEST_F(AgentServiceTest, ACommandAgentWithRetriesAndTimeouts) {
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        send_task(producer, "ok", "echo", {{"text", "three small words"}});
        send_task(producer, "flaky", "echo", {{"fail_attempts", 1}, {"text", "a b"}});
        send_task(producer, "broken", "echo", {{"fail_attempts", 10}, {"max_retries", 1}});
        send_task(producer, "slow", "echo",
                  {{"sleep_s", 30}, {"timeout_ms", 300}, {"max_retries", 1}});
        send_task(producer, "cancel-me", "echo", {{"sleep_s", 30}, {"timeout_ms", 60000}});
        producer.flush(10s);
    }
    kafka::ProducerOptions po;
    po.brokers = broker.bootstrap_servers();
    po.properties = EmbeddedBroker::producer_tuning();
    kafka::Producer canceller(po);
    bool cancel_sent = false;
    agents::CommandAgentOptions co;
    co.info = {"echo-agent", "Echo", "external", {"echo"}, 2};
    co.argv = {"/usr/bin/python3",
               std::string(AGENTSTREAM_SOURCE_DIR) + "/tests/support/agents/echo_agent.py"};
    processors::AgentService service(service_options(broker),
                                     {std::make_shared<agents::CommandAgent>(co)});
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(testing::run_until(service, [&] {
        auto status = service.orchestrator().status("cancel-me");
        if (!cancel_sent && status && status->state == agents::TaskState::Running) {
            // Someone asks for it to stop.
            auto e = event::EventFactory::task(event::EventType::TaskCancelled, "cancel-me", "echo",
                                               "operator");
            EXPECT_TRUE(canceller.send("tasks", e).ok());
            canceller.flush(5s);
            cancel_sent = true;
        }
        auto s = service.stats();
        return s.tasks == 5 && s.pending == 0;
    }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s)
        << "the slow one was terminated, the cancelled one too";
    EXPECT_EQ(service.stats().cancelled, 1U);

    std::map<std::string, event::Event> last;
    for (auto& e : events_of(broker, "tasks", 2, 5 * 4 + 6)) {
        auto id = std::string(*e.string("task_id"));
        last.insert_or_assign(id, std::move(e));
    }
    EXPECT_EQ(last.at("ok").type(), event::EventType::TaskCompleted);
    EXPECT_THAT(event::encode(last.at("ok")), HasSubstr("\"words\":3"));
    EXPECT_EQ(last.at("flaky").type(), event::EventType::TaskCompleted);
    EXPECT_EQ(last.at("flaky").integer("retry_count"), 1);
    EXPECT_THAT(event::encode(last.at("flaky")), HasSubstr("\"attempt\":2"));
    EXPECT_EQ(last.at("broken").type(), event::EventType::TaskFailed);
    EXPECT_EQ(last.at("broken").integer("retry_count"), 1);
    EXPECT_THAT(std::string(*last.at("broken").string("error_message")),
                HasSubstr("exited with status 2: attempt 2: upstream model unavailable"));
    EXPECT_EQ(last.at("slow").type(), event::EventType::TaskFailed);
    EXPECT_THAT(std::string(*last.at("slow").string("error_message")),
                HasSubstr("timed out after 300 ms"));
    EXPECT_EQ(last.at("cancel-me").type(), event::EventType::TaskCancelled);
    EXPECT_EQ(last.at("cancel-me").source(), "agent_orchestrator") << "ours, after the request";

    int errors = 0;
    for (const auto& e : events_of(broker, "agents", 1, 12)) {
        errors += e.type() == event::EventType::AgentError ? 1 : 0;
    }
    EXPECT_EQ(errors, 1 + 2 + 2);  // flaky once, broken twice, slow twice
}

// A task still running when the service stops is cancelled and its input left uncommitted:
// the next start runs it again, and only the task that ended is committed.
TEST_F(AgentServiceTest, ATaskRunningAtStopRunsAgainAfterARestart) {
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        send_task(producer, "quick", "echo", {{"text", "one two"}});
        send_task(producer, "long", "echo", {{"sleep_s", 30}, {"timeout_ms", 60000}});
        producer.flush(10s);
    }
    agents::CommandAgentOptions co;
    co.info = {"echo-agent", "Echo", "external", {"echo"}, 2};
    co.argv = {"/usr/bin/python3",
               std::string(AGENTSTREAM_SOURCE_DIR) + "/tests/support/agents/echo_agent.py"};
    auto o = service_options(broker);
    {
        processors::AgentService service(o, {std::make_shared<agents::CommandAgent>(co)});
        ASSERT_TRUE(testing::run_until(service, [&] {
            auto status = service.orchestrator().status("long");
            auto quick = service.orchestrator().status("quick");
            return status && status->state == agents::TaskState::Running && quick &&
                   quick->state == agents::TaskState::Completed && service.stats().pending == 1;
        }));
        EXPECT_GE(service.metrics().unfinished_at_stop, 1U) << "the long one, not committed";
    }
    std::int64_t uncommitted = 0;
    for (const auto& row :
         kafka::Admin({.brokers = broker.bootstrap_servers()}).group_lag(o.name, {"tasks"})) {
        uncommitted += row.lag;
    }
    EXPECT_GE(uncommitted, 1) << "the long task's record";
    // Run again, quick this time: the long task is read again and ends.
    processors::AgentService again(o, {std::make_shared<agents::CommandAgent>(co)});
    EXPECT_TRUE(testing::run_until(
        again,
        [&] {
            auto status = again.orchestrator().status("long");
            return status && status->state == agents::TaskState::Running;
        },
        60s))
        << "the long task was not run again";
    EXPECT_FALSE(again.orchestrator().status("quick").has_value()) << "committed, not run again";
}

}  // namespace
}  // namespace agentstream
