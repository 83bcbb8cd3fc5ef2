// Built-in agents on real input (a file, inline text, a series) and external agents: a command
// (stdin/stdout JSON, exit status, deadline) and an HTTP endpoint (status classes).
#include <agentstream/agents/builtin.h>
#include <agentstream/agents/external.h>
#include <agentstream/agents/orchestrator.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/validation.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace agentstream::agents {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr const char* QUARTER_REPORT =
    "Quarterly revenue grew strongly in the third quarter. Cloud revenue rose 18 percent, and "
    "the cloud platform won three large customers. The sales team closed more contracts than "
    "in any quarter before.\n\n"
    "Operating costs were flat. The support team reduced response times, and customer "
    "satisfaction improved across every region. Partners reported good demand for the new "
    "analytics product.\n\n"
    "Risks remain: a delayed data centre in Frankfurt may slow cloud growth next quarter, and "
    "hiring for the platform team is behind plan.";

struct Fixture : ::testing::Test {
    fs::path dir;
    std::atomic<bool> cancelled{false};
    void SetUp() override {
        dir = fs::temp_directory_path() /
              ("agents_test_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir / "docs");
        std::ofstream(dir / "docs" / "q3.txt") << QUARTER_REPORT;
        std::ofstream(dir / "secret.txt") << "not for agents";
    }
    void TearDown() override { fs::remove_all(dir); }
    TaskContext context(std::chrono::milliseconds budget = 10s, int attempt = 1) {
        return TaskContext(cancelled, std::chrono::steady_clock::now() + budget, attempt);
    }
    static Task task(std::string type, nlohmann::json data) {
        Task t;
        t.id = "task-1";
        t.type = std::move(type);
        t.data = std::move(data);
        t.correlation_id = "corr-1";
        return t;
    }
};

// An httplib server listening on a free loopback port for the length of a test.
class Serving {
  public:
    explicit Serving(httplib::Server& server)
        : _server(server),
          _port(server.bind_to_any_port("127.0.0.1")),
          _thread([this] { _server.listen_after_bind(); }) {
        while (!_server.is_running()) {
            std::this_thread::sleep_for(5ms);
        }
    }
    ~Serving() {
        _server.stop();
        _thread.join();
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(_port) + path;
    }

  private:
    httplib::Server& _server;
    int _port;
    std::thread _thread;
};

using Builtin = Fixture;
using External = Fixture;

TEST_F(Builtin, TheAnalyzerReadsTheFileAndReportsItsAnalysis) {
    DocumentAnalyzerOptions o;
    o.roots = {dir / "docs"};
    DocumentAnalyzerAgent agent(o);
    auto outcome = agent.process(
        task("document_analysis", {{"file_path", "q3.txt"}, {"document_id", "doc-q3"}}), context());
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    auto& out = outcome.output();
    EXPECT_EQ(out.result["document_id"], "doc-q3");
    EXPECT_EQ(out.result["language"], "en");
    EXPECT_GT(out.result["words"].get<int>(), 60);
    EXPECT_EQ(out.result["sentences"], 7);
    EXPECT_FALSE(out.result["summary"].empty());
    ASSERT_EQ(out.events.size(), 1U);
    const auto& e = out.events[0];
    EXPECT_EQ(e.type(), event::EventType::DocumentAnalysisComplete);
    EXPECT_EQ(e.correlation_id(), "corr-1");
    EXPECT_EQ(e.causation_id(), "task-1");
    EXPECT_EQ(e.string("file_path"), "q3.txt");
    EXPECT_THAT(event::encode(e), HasSubstr("\"analysis_results\":{\"characters\""));
    EXPECT_TRUE(event::validate(e).empty());
}

TEST_F(Builtin, TheAnalyzerRefusesPathsOutsideItsRootsAndMissingFiles) {
    DocumentAnalyzerOptions o;
    o.roots = {dir / "docs"};
    DocumentAnalyzerAgent agent(o);
    auto escape =
        agent.process(task("document_analysis", {{"file_path", "../secret.txt"}}), context());
    ASSERT_FALSE(escape.ok());
    EXPECT_THAT(escape.error().message, HasSubstr("outside the allowed document roots"));
    EXPECT_FALSE(escape.error().retriable);
    auto missing = agent.process(task("document_analysis", {{"file_path", "nope.txt"}}), context());
    ASSERT_FALSE(missing.ok());
    EXPECT_THAT(missing.error().message, HasSubstr("cannot read nope.txt"));
    auto nothing = agent.process(task("document_analysis", nlohmann::json::object()), context());
    ASSERT_FALSE(nothing.ok());
    EXPECT_THAT(nothing.error().message, HasSubstr("file_path or content"));
    auto inline_text = agent.process(task("document_analysis", {{"content", "Kurz."}}), context());
    ASSERT_TRUE(inline_text.ok());
    EXPECT_EQ(inline_text.output().result["words"], 1);
}

TEST_F(Builtin, QualityChecksPassAGoodDocumentAndListWhatAPoorOneLacks) {
    QualityAssuranceAgent agent;
    auto good = agent.process(
        task("quality_check",
             {{"content", QUARTER_REPORT}, {"document_id", "d1"}, {"previous_quality_score", 0.6}}),
        context());
    ASSERT_TRUE(good.ok()) << good.error().message;
    EXPECT_EQ(good.output().result["quality_score"], 1.0);
    EXPECT_TRUE(good.output().result["failed_checks"].empty());
    const auto& e = good.output().events.at(0);
    EXPECT_EQ(e.type(), event::EventType::QualityCheckComplete);
    EXPECT_EQ(e.string("subject_id"), "d1");
    EXPECT_EQ(e.string("quality_trend"), "improving");
    EXPECT_TRUE(event::validate(e).empty());

    auto poor = agent.process(task("quality_check", {{"content", "Too short."}}), context());
    ASSERT_TRUE(poor.ok());
    auto failed = poor.output().result["failed_checks"];
    EXPECT_THAT(failed.get<std::vector<std::string>>(), ::testing::Contains("min_words:50"));
    EXPECT_LT(poor.output().result["quality_score"].get<double>(), 0.5);
    EXPECT_FALSE(poor.output().result["remediation_suggestions"].empty());
    EXPECT_TRUE(event::validate(poor.output().events.at(0)).empty());
}

TEST_F(Builtin, BusinessIntelligenceFindsTrendsAndAnomalies) {
    BusinessIntelligenceAgent agent;
    nlohmann::json rising = nlohmann::json::array();
    for (int i = 0; i < 24; ++i) {
        rising.push_back(100 + 5 * i + (i % 3));
    }
    auto trend = agent.process(
        task("business_insight", {{"metric", "revenue"}, {"values", rising}}), context());
    ASSERT_TRUE(trend.ok()) << trend.error().message;
    EXPECT_EQ(trend.output().result["insight_type"], "opportunity");
    EXPECT_GT(trend.output().result["r2"].get<double>(), 0.9);
    EXPECT_TRUE(event::validate(trend.output().events.at(0)).empty());

    nlohmann::json spiky = nlohmann::json::array();
    for (int i = 0; i < 30; ++i) {
        spiky.push_back(i == 17 ? 400 : 100 + (i % 5));
    }
    auto anomaly = agent.process(
        task("business_insight", {{"metric", "orders"}, {"values", spiky}}), context());
    ASSERT_TRUE(anomaly.ok());
    EXPECT_EQ(anomaly.output().result["insight_type"], "anomaly");
    EXPECT_EQ(anomaly.output().result["anomalies"], 1);
    EXPECT_THAT(event::encode(anomaly.output().events.at(0)), HasSubstr("point 17 = 400"));

    auto few =
        agent.process(task("business_insight", {{"metric", "x"}, {"values", {1, 2}}}), context());
    ASSERT_FALSE(few.ok());
    EXPECT_FALSE(few.error().retriable);
}

TEST_F(External, ACommandAgentGetsTheTaskOnStdinAndAnswersOnStdout) {
    CommandAgentOptions o;
    o.info = {"py", "Py", "external", {"echo"}, 1};
    // Reads the task, answers with its id and data doubled.
    o.argv = {"/usr/bin/python3", "-c",
              "import json,sys; t=json.load(sys.stdin); "
              "print(json.dumps({'id': t['task_id'], 'twice': t['task_data']['n'] * 2, "
              "'attempt': t['attempt'], 'env': __import__('os').environ['AGENT_MODE']}))"};
    o.environment = {{"AGENT_MODE", "test"}};
    CommandAgent agent(o);
    auto outcome = agent.process(task("echo", {{"n", 21}}), context(10s, 2));
    ASSERT_TRUE(outcome.ok()) << outcome.error().message;
    EXPECT_EQ(outcome.output().result["id"], "task-1");
    EXPECT_EQ(outcome.output().result["twice"], 42);
    EXPECT_EQ(outcome.output().result["attempt"], 2);
    EXPECT_EQ(outcome.output().result["env"], "test");
}

TEST_F(External, ACommandAgentsFailuresAreErrors) {
    CommandAgentOptions o;
    o.info = {"sh", "Sh", "external", {"x"}, 1};
    o.argv = {"/bin/sh", "-c", "cat >/dev/null; echo 'model unavailable' >&2; exit 3"};
    auto failed = CommandAgent(o).process(task("x", {}), context());
    ASSERT_FALSE(failed.ok());
    EXPECT_THAT(failed.error().message, HasSubstr("exited with status 3: model unavailable"));
    EXPECT_TRUE(failed.error().retriable);

    o.argv = {"/bin/sh", "-c", "cat >/dev/null; echo not json"};
    auto garbage = CommandAgent(o).process(task("x", {}), context());
    ASSERT_FALSE(garbage.ok());
    EXPECT_THAT(garbage.error().message, HasSubstr("did not answer with a JSON object"));

    o.argv = {"/no/such/program"};
    auto missing = CommandAgent(o).process(task("x", {}), context());
    ASSERT_FALSE(missing.ok());
    EXPECT_THAT(missing.error().message, HasSubstr("cannot start /no/such/program"));

    o.argv = {"/bin/sh", "-c", "sleep 30"};
    auto start = std::chrono::steady_clock::now();
    auto slow = CommandAgent(o).process(task("x", {}), context(300ms));
    ASSERT_FALSE(slow.ok());
    EXPECT_THAT(slow.error().message, HasSubstr("ran past the task's deadline"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "terminated, not awaited";
}

TEST_F(External, AnHttpAgentPostsTheTaskAndClassifiesAnswers) {
    httplib::Server server;
    server.Post("/agent", [](const httplib::Request& req, httplib::Response& res) {
        auto t = nlohmann::json::parse(req.body);
        auto mode = t["task_data"].value("mode", "ok");
        if (mode == "busy") {
            res.status = 503;
        } else if (mode == "bad") {
            res.status = 400;
            res.set_content("unknown mode", "text/plain");
        } else {
            res.set_content(nlohmann::json{{"answer", t["task_id"]}}.dump(), "application/json");
        }
    });
    Serving serving(server);
    HttpAgentOptions o;
    o.info = {"http", "Http", "external", {"x"}, 1};
    o.url = serving.url("/agent");
    HttpAgent agent(o);
    auto ok = agent.process(task("x", {{"mode", "ok"}}), context());
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok.output().result["answer"], "task-1");
    auto busy = agent.process(task("x", {{"mode", "busy"}}), context());
    ASSERT_FALSE(busy.ok());
    EXPECT_TRUE(busy.error().retriable);
    auto bad = agent.process(task("x", {{"mode", "bad"}}), context());
    ASSERT_FALSE(bad.ok());
    EXPECT_FALSE(bad.error().retriable);
    EXPECT_THAT(bad.error().message, HasSubstr("HTTP 400: unknown mode"));
    EXPECT_THROW(HttpAgent({o.info, "ftp://x", {}, {}}), std::invalid_argument);
}

// The HTTP agent's failures as the orchestrator sees them: a server slower than the task's
// deadline is a retriable timeout (given up at the deadline, not awaited), a port nobody
// listens on is retriable, 408, 429 and 5xx are retried until they pass, other 4xx are final.
TEST_F(External, AnHttpAgentsTimeoutsRefusalsAndRetriableStatusesAreRetried) {
    std::mutex mutex;
    std::map<std::string, int> calls;  // by task id
    httplib::Server server;
    server.Post("/agent", [&](const httplib::Request& req, httplib::Response& res) {
        auto t = nlohmann::json::parse(req.body);
        std::string id = t["task_id"];
        int call = 0;
        {
            std::lock_guard lock(mutex);
            call = ++calls[id];
        }
        int fail_status = t["task_data"].value("status", 0);
        int fail_times = t["task_data"].value("times", 0);
        if (t["task_data"].value("sleep_ms", 0) > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(t["task_data"]["sleep_ms"]));
        }
        if (call <= fail_times) {
            res.status = fail_status;
            res.set_content("try later", "text/plain");
            return;
        }
        res.set_content(nlohmann::json{{"call", call}}.dump(), "application/json");
    });
    Serving serving(server);
    HttpAgentOptions o;
    o.info = {"http", "Http", "external", {"x"}, 4};
    o.url = serving.url("/agent");
    HttpAgent agent(o);

    // Timeout: the deadline bounds the call.
    auto start = std::chrono::steady_clock::now();
    auto slow = agent.process(task("x", {{"sleep_ms", 1500}}), context(300ms));
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(slow.ok());
    EXPECT_TRUE(slow.error().retriable);
    EXPECT_LT(took, 1s) << "the call was awaited past the deadline";
    // Connection refused: a port just released, where nothing listens.
    HttpAgentOptions gone = o;
    {
        httplib::Server probe;
        int free_port = probe.bind_to_any_port("127.0.0.1");
        gone.url = "http://127.0.0.1:" + std::to_string(free_port) + "/agent";
    }
    auto refused = HttpAgent(gone).process(task("x", {}), context(2s));
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(refused.error().retriable) << refused.error().message;

    // Through the orchestrator: each retriable status is retried until the server answers.
    std::map<std::string, TaskEvent> finals;
    std::condition_variable done;
    OrchestratorOptions oo;
    oo.retry_backoff = 20ms;
    oo.max_retries = 3;
    Orchestrator orchestrator(oo, [&](const TaskEvent& e) {
        if (e.kind == TaskEvent::Kind::Completed || e.kind == TaskEvent::Kind::Failed) {
            std::lock_guard lock(mutex);
            finals[e.task.id] = e;
            done.notify_all();
        }
    });
    orchestrator.add_agent(std::make_shared<HttpAgent>(o));
    const std::vector<std::pair<int, bool>> cases = {{408, true},  {429, true}, {500, true},
                                                     {502, true},  {503, true}, {504, true},
                                                     {404, false}, {422, false}};
    for (const auto& [status, retried] : cases) {
        auto t = task("x", {{"status", status}, {"times", 2}});
        t.id = "status-" + std::to_string(status);
        ASSERT_EQ(orchestrator.submit(t), Orchestrator::Submit::Accepted);
    }
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(done.wait_for(lock, 30s, [&] { return finals.size() == cases.size(); }))
            << finals.size() << " of " << cases.size() << " finished";
    }
    for (const auto& [status, retried] : cases) {
        const auto& e = finals.at("status-" + std::to_string(status));
        if (retried) {
            EXPECT_EQ(e.kind, TaskEvent::Kind::Completed) << status << ": " << e.error;
            EXPECT_EQ(e.attempt, 3) << status << ": two failures, then the answer";
        } else {
            EXPECT_EQ(e.kind, TaskEvent::Kind::Failed) << status;
            EXPECT_EQ(e.attempt, 1) << status << ": not retried";
            EXPECT_THAT(e.error, HasSubstr("HTTP " + std::to_string(status)));
        }
    }
    EXPECT_EQ(orchestrator.stats().retries, 12U);  // 6 statuses × 2
    orchestrator.stop();
}

}  // namespace
}  // namespace agentstream::agents
