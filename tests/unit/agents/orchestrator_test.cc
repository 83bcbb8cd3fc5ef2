// The orchestrator: priority order (FIFO within a level), capability routing with each
// strategy, per-attempt timeouts, retries with backoff, cancellation, status queries and the
// order of the reported state changes.
#include <agentstream/agents/orchestrator.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace agentstream::agents {
namespace {

using namespace std::chrono_literals;
using Kind = TaskEvent::Kind;

class FakeAgent : public Agent {
  public:
    using Fn = std::function<TaskOutcome(const Task&, const TaskContext&)>;
    FakeAgent(std::string id, std::vector<std::string> caps, int concurrency, Fn fn)
        : _info{id, id, "fake", std::move(caps), concurrency}, _fn(std::move(fn)) {}
    const AgentInfo& info() const noexcept override { return _info; }
    TaskOutcome process(const Task& t, const TaskContext& c) override { return _fn(t, c); }

  private:
    AgentInfo _info;
    Fn _fn;
};

// Records the listener's events.
struct Recorder {
    std::mutex m;
    std::condition_variable cv;
    std::vector<TaskEvent> events;
    TaskListener listener() {
        return [this](const TaskEvent& e) {
            std::lock_guard lock(m);
            events.push_back(e);
            cv.notify_all();
        };
    }
    // Waits for `n` events of `kind`.
    bool wait(Kind kind, std::size_t n, std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, timeout, [&] { return count_locked(kind) >= n; });
    }
    std::size_t count_locked(Kind kind) const {
        return static_cast<std::size_t>(std::count_if(
            events.begin(), events.end(), [&](const TaskEvent& e) { return e.kind == kind; }));
    }
    std::vector<TaskEvent> of(Kind kind) {
        std::lock_guard lock(m);
        std::vector<TaskEvent> out;
        for (const auto& e : events) {
            if (e.kind == kind) {
                out.push_back(e);
            }
        }
        return out;
    }
};

// A gate the agents wait on until the test opens it.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return open; });
    }
    void release() {
        std::lock_guard lock(m);
        open = true;
        cv.notify_all();
    }
};

Task task(std::string id, std::string type = "work",
          event::Priority priority = event::Priority::Medium) {
    Task t;
    t.id = std::move(id);
    t.type = std::move(type);
    t.priority = priority;
    return t;
}

TaskOutcome ok_with(const Task& t) {
    TaskOutput out;
    out.result = {{"done", t.id}};
    return out;
}

TEST(Orchestrator, HigherPriorityFirstAndFifoWithinALevel) {
    Recorder rec;
    Gate gate;
    Orchestrator o({}, rec.listener());
    o.add_agent(std::make_shared<FakeAgent>("a", std::vector<std::string>{"work"}, 1,
                                            [&](const Task& t, const TaskContext&) {
                                                if (t.id == "blocker") {
                                                    gate.wait();
                                                }
                                                return ok_with(t);
                                            }));
    ASSERT_EQ(o.submit(task("blocker")), Orchestrator::Submit::Accepted);
    ASSERT_TRUE(rec.wait(Kind::Assigned, 1));
    using P = event::Priority;
    for (auto [id, p] : std::vector<std::pair<std::string, P>>{{"low", P::Low},
                                                               {"high-1", P::High},
                                                               {"critical", P::Critical},
                                                               {"medium", P::Medium},
                                                               {"high-2", P::High}}) {
        ASSERT_EQ(o.submit(task(id, "work", p)), Orchestrator::Submit::Accepted);
    }
    EXPECT_EQ(o.status("low")->state, TaskState::Queued);
    std::this_thread::sleep_for(5ms);  // so that they have waited measurably
    gate.release();
    ASSERT_TRUE(rec.wait(Kind::Completed, 6));
    std::vector<std::string> order;
    for (const auto& e : rec.of(Kind::Assigned)) {
        order.push_back(e.task.id);
    }
    EXPECT_THAT(order,
                ::testing::ElementsAre("blocker", "critical", "high-1", "high-2", "medium", "low"));
    auto s = o.status("medium");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, TaskState::Completed);
    EXPECT_EQ(s->agent_id, "a");
    EXPECT_EQ(s->attempts, 1);
    EXPECT_GE(s->queue_time, 5ms) << "it waited for the blocker";
}

TEST(Orchestrator, TasksGoOnlyToCapableAgentsAndUnknownTypesAreRefused) {
    Recorder rec;
    Orchestrator o({}, rec.listener());
    o.add_agent(
        std::make_shared<FakeAgent>("reader", std::vector<std::string>{"read"}, 2,
                                    [](const Task& t, const TaskContext&) { return ok_with(t); }));
    o.add_agent(
        std::make_shared<FakeAgent>("writer", std::vector<std::string>{"write"}, 2,
                                    [](const Task& t, const TaskContext&) { return ok_with(t); }));
    EXPECT_EQ(o.submit(task("r1", "read")), Orchestrator::Submit::Accepted);
    EXPECT_EQ(o.submit(task("w1", "write")), Orchestrator::Submit::Accepted);
    EXPECT_EQ(o.submit(task("x1", "translate")), Orchestrator::Submit::NoAgent);
    EXPECT_EQ(o.submit(task("r1", "read")), Orchestrator::Submit::Duplicate);
    ASSERT_TRUE(rec.wait(Kind::Completed, 2));
    for (const auto& e : rec.of(Kind::Completed)) {
        EXPECT_EQ(e.agent.id, e.task.id == "r1" ? "reader" : "writer");
        EXPECT_EQ(e.output.result["done"], e.task.id);
    }
    EXPECT_EQ(o.submit(task("r1", "read")), Orchestrator::Submit::Duplicate) << "finished too";
    EXPECT_THROW(o.add_agent(std::make_shared<FakeAgent>(
                     "reader", std::vector<std::string>{"read"}, 1,
                     [](const Task& t, const TaskContext&) { return ok_with(t); })),
                 std::invalid_argument);
}

// Three agents of one capability, tasks held until all are assigned: who got what.
std::map<std::string, int> spread(Strategy strategy, int tasks, std::vector<int> concurrency) {
    Recorder rec;
    Gate gate;
    OrchestratorOptions options;
    options.strategy = strategy;
    Orchestrator o(options, rec.listener());
    for (std::size_t i = 0; i < concurrency.size(); ++i) {
        o.add_agent(std::make_shared<FakeAgent>("a" + std::to_string(i),
                                                std::vector<std::string>{"work"}, concurrency[i],
                                                [&](const Task& t, const TaskContext&) {
                                                    gate.wait();
                                                    return ok_with(t);
                                                }));
    }
    for (int i = 0; i < tasks; ++i) {
        EXPECT_EQ(o.submit(task("t" + std::to_string(i))), Orchestrator::Submit::Accepted);
    }
    EXPECT_TRUE(rec.wait(Kind::Assigned, static_cast<std::size_t>(tasks)));
    std::map<std::string, int> by_agent;
    for (const auto& e : rec.of(Kind::Assigned)) {
        ++by_agent[e.agent.id];
    }
    gate.release();
    EXPECT_TRUE(o.wait_idle(10s));
    return by_agent;
}

TEST(Orchestrator, StrategiesSpreadTheLoad) {
    // Least loaded: by share of slots in use, so 2:4:2 capacity gets 2:4:2 of 8 tasks.
    auto least = spread(Strategy::LeastLoaded, 8, {2, 4, 2});
    EXPECT_EQ(least["a0"], 2);
    EXPECT_EQ(least["a1"], 4);
    EXPECT_EQ(least["a2"], 2);
    // Round robin: in turn while slots are free.
    auto rr = spread(Strategy::RoundRobin, 6, {4, 4, 4});
    EXPECT_EQ(rr["a0"], 2);
    EXPECT_EQ(rr["a1"], 2);
    EXPECT_EQ(rr["a2"], 2);
}

TEST(Orchestrator, LoadBasedPrefersTheAgentThatFinishesSooner) {
    Recorder rec;
    OrchestratorOptions options;
    options.strategy = Strategy::LoadBased;
    Orchestrator o(options, rec.listener());
    auto worker = [](std::chrono::milliseconds took) {
        return [took](const Task& t, const TaskContext&) {
            std::this_thread::sleep_for(took);
            return ok_with(t);
        };
    };
    o.add_agent(
        std::make_shared<FakeAgent>("slow", std::vector<std::string>{"work"}, 4, worker(60ms)));
    o.add_agent(
        std::make_shared<FakeAgent>("fast", std::vector<std::string>{"work"}, 4, worker(2ms)));
    // Warm up: one task each so both have a mean time.
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(o.submit(task("warm" + std::to_string(i))), Orchestrator::Submit::Accepted);
        ASSERT_TRUE(rec.wait(Kind::Completed, static_cast<std::size_t>(i + 1)));
    }
    auto before = rec.of(Kind::Assigned).size();
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(o.submit(task("t" + std::to_string(i))), Orchestrator::Submit::Accepted);
        ASSERT_TRUE(rec.wait(Kind::Completed, static_cast<std::size_t>(i + 3)));
    }
    int fast = 0;
    auto assigned = rec.of(Kind::Assigned);
    for (std::size_t i = before; i < assigned.size(); ++i) {
        fast += assigned[i].agent.id == "fast" ? 1 : 0;
    }
    EXPECT_GE(fast, 18);
}

TEST(Orchestrator, TimedOutAttemptsAreRetriedWithBackoffThenFail) {
    Recorder rec;
    OrchestratorOptions options;
    options.task_timeout = 100ms;
    options.max_retries = 2;
    options.retry_backoff = 100ms;
    Orchestrator o(options, rec.listener());
    std::atomic<int> calls{0};
    o.add_agent(std::make_shared<FakeAgent>("sleepy", std::vector<std::string>{"work"}, 1,
                                            [&](const Task& t, const TaskContext& c) {
                                                ++calls;
                                                while (!c.stop_requested()) {
                                                    std::this_thread::sleep_for(5ms);
                                                }
                                                return ok_with(t);  // discarded
                                            }));
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(o.submit(task("t")), Orchestrator::Submit::Accepted);
    ASSERT_TRUE(rec.wait(Kind::Failed, 1));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(calls, 3);
    auto retries = rec.of(Kind::AttemptFailed);
    ASSERT_EQ(retries.size(), 2U);
    EXPECT_TRUE(retries[0].timed_out);
    EXPECT_EQ(retries[0].retry_in, 100ms);
    EXPECT_EQ(retries[1].retry_in, 200ms) << "doubling";
    // 3 attempts of 100 ms + backoffs of 100 and 200 ms.
    EXPECT_GE(took, 600ms);
    auto failed = rec.of(Kind::Failed)[0];
    EXPECT_EQ(failed.attempt, 3);
    EXPECT_THAT(failed.error, ::testing::HasSubstr("timed out after 100 ms"));
    EXPECT_TRUE(rec.of(Kind::Completed).empty());
    EXPECT_EQ(o.stats().timeouts, 3U);
    EXPECT_EQ(o.status("t")->state, TaskState::Failed);
}

TEST(Orchestrator, AnAnswerAfterTheDeadlineIsATimeoutWhoeverNoticesFirst) {
    // Each agent call spins to its deadline and answers at once: the answer and the
    // dispatcher's deadline check race; either way it is a timeout, never a completion.
    Recorder rec;
    OrchestratorOptions options;
    options.task_timeout = 20ms;
    options.max_retries = 0;
    Orchestrator o(options, rec.listener());
    o.add_agent(std::make_shared<FakeAgent>(
        "a", std::vector<std::string>{"work"}, 8, [](const Task& t, const TaskContext& c) {
            while (std::chrono::steady_clock::now() < c.deadline()) {
            }
            return ok_with(t);
        }));
    for (int i = 0; i < 40; ++i) {
        ASSERT_EQ(o.submit(task("t" + std::to_string(i))), Orchestrator::Submit::Accepted);
    }
    ASSERT_TRUE(rec.wait(Kind::Failed, 40));
    EXPECT_TRUE(rec.of(Kind::Completed).empty());
    EXPECT_EQ(o.stats().timeouts, 40U);
    for (const auto& e : rec.of(Kind::Failed)) {
        EXPECT_TRUE(e.timed_out);
    }
}

TEST(Orchestrator, RetriableErrorsRetryAndPermanentOnesDoNot) {
    Recorder rec;
    OrchestratorOptions options;
    options.retry_backoff = 10ms;
    Orchestrator o(options, rec.listener());
    o.add_agent(std::make_shared<FakeAgent>(
        "a", std::vector<std::string>{"work"}, 2, [&](const Task& t, const TaskContext& c) {
            if (t.id == "flaky" && c.attempt() == 1) {
                return TaskOutcome(TaskError{"upstream busy", true});
            }
            if (t.id == "bad") {
                return TaskOutcome(TaskError{"no such file", false});
            }
            if (t.id == "throws") {
                throw std::runtime_error("boom");
            }
            return ok_with(t);
        }));
    ASSERT_EQ(o.submit(task("flaky")), Orchestrator::Submit::Accepted);
    ASSERT_EQ(o.submit(task("bad")), Orchestrator::Submit::Accepted);
    ASSERT_EQ(o.submit(task("throws")), Orchestrator::Submit::Accepted);
    ASSERT_TRUE(o.wait_idle(10s));
    ASSERT_TRUE(rec.wait(Kind::Failed, 2));
    ASSERT_TRUE(rec.wait(Kind::Completed, 1));
    EXPECT_EQ(o.status("flaky")->state, TaskState::Completed);
    EXPECT_EQ(o.status("flaky")->attempts, 2);
    EXPECT_EQ(o.status("bad")->attempts, 1) << "not retriable";
    EXPECT_EQ(o.status("bad")->last_error, "no such file");
    EXPECT_EQ(o.status("throws")->attempts, 3) << "an exception is retriable";
    EXPECT_THAT(o.status("throws")->last_error, ::testing::HasSubstr("boom"));
    auto agents = o.agents();
    ASSERT_EQ(agents.size(), 1U);
    EXPECT_EQ(agents[0].completed, 1U);
    EXPECT_EQ(agents[0].errors, 5U);  // flaky once, bad once, throws three times
}

TEST(Orchestrator, CancelQueuedAndRunningTasks) {
    Recorder rec;
    Gate gate;
    Orchestrator o({}, rec.listener());
    std::atomic<int> ran_queued{0};
    o.add_agent(std::make_shared<FakeAgent>("a", std::vector<std::string>{"work"}, 1,
                                            [&](const Task& t, const TaskContext& c) {
                                                if (t.id == "queued") {
                                                    ++ran_queued;
                                                }
                                                while (t.id == "running" && !c.stop_requested()) {
                                                    std::this_thread::sleep_for(2ms);
                                                }
                                                return ok_with(t);
                                            }));
    ASSERT_EQ(o.submit(task("running")), Orchestrator::Submit::Accepted);
    ASSERT_TRUE(rec.wait(Kind::Assigned, 1));
    ASSERT_EQ(o.submit(task("queued")), Orchestrator::Submit::Accepted);
    EXPECT_TRUE(o.cancel("queued"));
    EXPECT_TRUE(o.cancel("running"));
    EXPECT_FALSE(o.cancel("running")) << "already finished";
    EXPECT_FALSE(o.cancel("nope"));
    ASSERT_TRUE(rec.wait(Kind::Cancelled, 2));
    ASSERT_TRUE(rec.wait(Kind::AgentIdle, 1));
    EXPECT_EQ(ran_queued, 0);
    EXPECT_TRUE(rec.of(Kind::Completed).empty()) << "a cancelled attempt's result is discarded";
    EXPECT_EQ(o.status("running")->state, TaskState::Cancelled);
    EXPECT_EQ(o.stats().cancelled, 2U);
}

TEST(Orchestrator, EventsOfATaskComeInOrderAndAgentsReportBusyAndIdle) {
    Recorder rec;
    Orchestrator o({}, rec.listener());
    o.add_agent(std::make_shared<FakeAgent>("a", std::vector<std::string>{"work"}, 1,
                                            [](const Task& t, const TaskContext&) {
                                                std::this_thread::sleep_for(20ms);
                                                return ok_with(t);
                                            }));
    ASSERT_EQ(o.submit(task("t")), Orchestrator::Submit::Accepted);
    ASSERT_TRUE(rec.wait(Kind::AgentIdle, 1));
    std::vector<Kind> kinds;
    {
        std::lock_guard lock(rec.m);
        for (const auto& e : rec.events) {
            kinds.push_back(e.kind);
        }
    }
    EXPECT_THAT(kinds, ::testing::ElementsAre(Kind::AgentBusy, Kind::Assigned, Kind::Completed,
                                              Kind::AgentIdle));
    auto done = rec.of(Kind::Completed)[0];
    EXPECT_GE(done.execution_time, 20ms);
    EXPECT_EQ(done.agent_completed, 1U);
    auto load = o.agents()[0];
    EXPECT_EQ(load.running, 0);
    EXPECT_GE(load.mean_task_ms, 20);
}

TEST(Orchestrator, QueueIsBounded) {
    Gate gate;
    OrchestratorOptions options;
    options.max_queued = 2;
    Orchestrator o(options);
    o.add_agent(std::make_shared<FakeAgent>("a", std::vector<std::string>{"work"}, 1,
                                            [&](const Task& t, const TaskContext&) {
                                                gate.wait();
                                                return ok_with(t);
                                            }));
    EXPECT_EQ(o.submit(task("1")), Orchestrator::Submit::Accepted);
    // "1" may or may not have left the queue yet: fill until refused.
    int accepted = 1;
    while (o.submit(task(std::to_string(accepted + 1))) == Orchestrator::Submit::Accepted) {
        ++accepted;
        ASSERT_LE(accepted, 3);
    }
    EXPECT_GE(accepted, 2);
    gate.release();
    EXPECT_TRUE(o.wait_idle(10s));
}

}  // namespace
}  // namespace agentstream::agents
