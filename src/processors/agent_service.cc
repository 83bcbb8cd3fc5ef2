#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/processors/agent_service.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>

#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "internal/log.h"

namespace agentstream::processors {

using agents::TaskEvent;
using Kind = agents::TaskEvent::Kind;
using nlohmann::json;

namespace {

event::EnvelopeOptions envelope_of(const agents::Task& task) {
    event::EnvelopeOptions o;
    o.priority = task.priority;
    o.correlation_id = task.correlation_id;
    return o;
}

event::RawJson raw(const json& j) {
    return event::RawJson{j.dump()};
}

std::int64_t ms(std::chrono::milliseconds d) {
    return d.count();
}

}  // namespace

struct AgentService::Impl {
    AgentServiceOptions& options;
    // Tasks taken from Kafka and not yet ended: each holds its input record open.
    mutable std::mutex mutex;
    std::unordered_map<std::string, runtime::Deferred> pending;
    std::atomic<bool> stopping{false};  // the engine is stopping: cancelled tasks stay uncommitted
    std::function<runtime::Emitter()> emitter;  // outputs of no task (agent status)
    std::atomic<std::uint64_t> tasks{0}, duplicates{0}, unassignable{0}, ignored{0}, cancelled{0},
        publish_failures{0};

    explicit Impl(AgentServiceOptions& o) : options(o) {}

    // An event of task `task_id` goes with its input record (committed once it is written);
    // one of no task (or of a task already ended) on its own.
    void publish(const std::string& task_id, const std::string& topic, const event::Event& e) {
        if (topic.empty()) {
            return;
        }
        if (!task_id.empty()) {
            std::lock_guard lock(mutex);
            if (auto it = pending.find(task_id); it != pending.end()) {
                if (!it->second.emit(topic, e)) {
                    ++publish_failures;
                }
                return;
            }
        }
        try {
            emitter().emit(topic, e);
        } catch (const std::exception& ex) {
            ++publish_failures;
            logger("agents")->error("{}: not sent to {}: {}", options.name, topic, ex.what());
        }
    }

    // A task ended: its input is committable once its events are written. Cancelled because
    // the service stops, it is left uncommitted instead (it runs again after a restart).
    void task_ended(const std::string& id, Kind kind) {
        runtime::Deferred d;
        {
            std::lock_guard lock(mutex);
            auto it = pending.find(id);
            if (it == pending.end()) {
                return;
            }
            d = std::move(it->second);
            pending.erase(it);
        }
        if (kind == Kind::Cancelled && stopping.load()) {
            d.abandon();
        } else {
            d.complete();
        }
    }

    event::Event agent_event(event::EventType type, const TaskEvent& e, const char* status,
                             event::Fields fields) {
        auto ev = event::EventFactory::agent(type, e.agent.id, e.agent.name, e.agent.role, status,
                                             options.name, fields, envelope_of(e.task));
        ev.set("current_tasks", e.agent_running);
        ev.set("completed_tasks", static_cast<std::int64_t>(e.agent_completed));
        ev.set("error_count", static_cast<std::int64_t>(e.agent_errors));
        ev.set_timestamp(e.at);
        return ev;
    }

    void count(const TaskEvent& e, const char* outcome) {
        if (options.metrics != nullptr) {
            options.metrics
                ->counter("agent_tasks_total", {{"agent", e.agent.id}, {"outcome", outcome}})
                .add();
        }
    }

    void on_event(const TaskEvent& e) {
        const auto& t = e.task;
        if (stopping.load() && (e.kind == Kind::Failed || e.kind == Kind::AttemptFailed ||
                                e.kind == Kind::Cancelled)) {
            // Ended by the stop, not by its agent: nothing is published, and its input stays
            // uncommitted so that the next start runs it again.
            task_ended(t.id, Kind::Cancelled);
            return;
        }
        auto task_event = [&](event::EventType type, const event::Fields& fields,
                              const event::Fields& more = {}) {
            auto ev =
                event::EventFactory::task(type, t.id, t.type, options.name, fields, envelope_of(t));
            for (const auto& f : more) {
                ev.set(f.name, f.value);
            }
            ev.set_timestamp(e.at);
            publish(t.id, options.tasks_topic, ev);
        };
        std::shared_ptr<notify::NotificationService> notices =
            options.notifications ? options.notifications() : nullptr;
        switch (e.kind) {
            case Kind::AgentBusy:
            case Kind::AgentIdle: {
                bool busy = e.kind == Kind::AgentBusy;
                auto ev = agent_event(event::EventType::AgentStatusChanged, e,
                                      busy ? "working" : "idle", {});
                publish({}, options.agents_topic, ev);
                break;
            }
            case Kind::Assigned: {
                event::Fields assigned = {{"agent_id", e.agent.id},
                                          {"agent_role", e.agent.role},
                                          {"retry_count", e.attempt - 1}};
                task_event(event::EventType::TaskAssigned, assigned);
                task_event(event::EventType::TaskStarted, assigned,
                           {{"queue_time_ms", ms(e.queue_time)}});
                auto ev = agent_event(event::EventType::AgentTaskStarted, e, "working",
                                      {{"task_id", t.id}});
                publish(t.id, options.agents_topic, ev);
                break;
            }
            case Kind::Completed: {
                count(e, "completed");
                for (const auto& out : e.output.events) {
                    auto topic = options.result_topics.find(out.family());
                    if (topic != options.result_topics.end()) {
                        publish(t.id, topic->second, out);
                    }
                }
                auto ev = agent_event(event::EventType::AgentTaskCompleted, e, "working",
                                      {{"task_id", t.id}});
                publish(t.id, options.agents_topic, ev);
                task_event(event::EventType::TaskCompleted,
                           {{"agent_id", e.agent.id},
                            {"agent_role", e.agent.role},
                            {"result_data", raw(e.output.result)},
                            {"execution_time_ms", ms(e.execution_time)},
                            {"queue_time_ms", ms(e.queue_time)},
                            {"retry_count", e.attempt - 1}});
                if (notices) {
                    notices->notify_task_completion(
                        t.id, e.agent.id,
                        fmt::format("{} completed in {} ms (attempt {})", t.type,
                                    ms(e.execution_time), e.attempt),
                        t.requester.empty() ? "system_admin" : t.requester);
                }
                task_ended(t.id, e.kind);
                break;
            }
            case Kind::AttemptFailed:
            case Kind::Failed: {
                bool final = e.kind == Kind::Failed;
                if (!e.agent.id.empty()) {
                    count(e, e.timed_out ? "timed_out" : final ? "failed" : "retried");
                    auto ev = agent_event(event::EventType::AgentError, e, "error",
                                          {{"task_id", t.id}, {"error_message", e.error}});
                    publish(t.id, options.agents_topic, ev);
                }
                if (final) {
                    event::Fields fields = {{"error_message", e.error},
                                            {"retry_count", std::max(0, e.attempt - 1)}};
                    if (e.agent.id.empty()) {
                        task_event(event::EventType::TaskFailed, fields);
                    } else {
                        task_event(event::EventType::TaskFailed, fields,
                                   {{"agent_id", e.agent.id},
                                    {"execution_time_ms", ms(e.execution_time)}});
                    }
                    if (notices) {
                        notices->notify_agent_error(e.agent.id.empty() ? options.name : e.agent.id,
                                                    fmt::format("task {} ({}) failed after {} "
                                                                "attempt(s): {}",
                                                                t.id, t.type, e.attempt, e.error),
                                                    t.id);
                    }
                    task_ended(t.id, e.kind);
                }
                break;
            }
            case Kind::Cancelled:
                task_event(
                    event::EventType::TaskCancelled,
                    {{"error_message", e.error}, {"retry_count", std::max(0, e.attempt - 1)}});
                task_ended(t.id, e.kind);
                break;
        }
    }
};

namespace {

runtime::ProcessorOptions engine_options(const AgentServiceOptions& o) {
    if (o.tasks_topic.empty()) {
        throw std::invalid_argument(o.name + ": tasks_topic is required");
    }
    if (o.max_pending == 0) {
        throw std::invalid_argument(o.name + ": max_pending must be at least 1");
    }
    runtime::ProcessorOptions po;
    po.name = o.name;
    po.group_id = o.group_id.empty() ? o.name : o.group_id;
    po.inputs = {o.tasks_topic};
    if (!o.documents_topic.empty()) {
        po.inputs.push_back(o.documents_topic);
    }
    po.client = o.client;
    if (po.client.client_id.empty()) {
        po.client.client_id = o.name;
    }
    po.producer_properties = o.producer_properties;
    po.consumer_properties = o.consumer_properties;
    po.producer = o.producer;
    po.start_from = o.start_from;
    po.max_in_flight = o.max_pending;
    // No metrics registry: events_total counts a topic's events once, and the trackers read
    // these topics too; the service's own series are agent_tasks_total.
    return po;
}

}  // namespace

AgentService::AgentService(AgentServiceOptions options,
                           std::vector<std::shared_ptr<agents::Agent>> agents)
    : runtime::StreamProcessor(engine_options(options)),
      _options(std::move(options)),
      _impl(std::make_unique<Impl>(_options)) {
    if (_options.group_id.empty()) {
        _options.group_id = _options.name;
    }
    _impl->emitter = [this] { return emitter(); };
    _options.orchestrator.max_queued =
        std::max(_options.orchestrator.max_queued, _options.max_pending + 1);
    _orchestrator = std::make_unique<agents::Orchestrator>(
        _options.orchestrator, [impl = _impl.get()](const TaskEvent& e) { impl->on_event(e); });
    for (auto& a : agents) {
        _orchestrator->add_agent(std::move(a));
    }
}

AgentService::~AgentService() {
    _impl->stopping = true;
    _orchestrator->stop();
}

AgentServiceStats AgentService::stats() const {
    auto engine = metrics();
    AgentServiceStats s;
    s.consumed = engine.consumed;
    s.tasks = _impl->tasks;
    s.duplicates = _impl->duplicates;
    s.unassignable = _impl->unassignable;
    s.ignored = _impl->ignored;
    s.cancelled = _impl->cancelled;
    s.dead_lettered = engine.dead_lettered;
    s.published = engine.produced;
    s.publish_failures = _impl->publish_failures + engine.failed;
    std::lock_guard lock(_impl->mutex);
    s.pending = _impl->pending.size();
    return s;
}

void AgentService::on_start(runtime::Emitter&) {
    _impl->stopping = false;
    // Agents announce themselves idle.
    for (const auto& a : _orchestrator->agents()) {
        TaskEvent e;
        e.kind = Kind::AgentIdle;
        e.agent = a.info;
        e.at = now_utc();
        _impl->on_event(e);
    }
}

void AgentService::on_stopping() {
    // Running tasks are cancelled; their inputs stay uncommitted (see task_ended).
    _impl->stopping = true;
    _orchestrator->stop();
}

bool AgentService::process(const event::Event& e, runtime::Context& ctx) {
    auto& impl = *_impl;
    const auto& message = ctx.record();
    agents::Task task;
    if (e.type() == event::EventType::TaskCreated) {
        task.id = std::string(e.string("task_id").value_or(""));
        task.type = std::string(e.string("task_type").value_or(""));
        if (const auto* data = e.field("task_data"); data && data->as_raw_json()) {
            task.data = json::parse(data->as_raw_json()->text, nullptr, false);
            if (task.data.is_discarded() || !task.data.is_object()) {
                task.data = json::object();
            }
        }
        task.requester = std::string(e.string("requester_id").value_or(""));
    } else if (e.type() == event::EventType::TaskCancelled && e.source() != _options.name) {
        // Someone asks for a task to stop: a queued or running one is cancelled (and its
        // task.cancelled published by us); an unknown or finished one is left alone.
        if (_orchestrator->cancel(std::string(e.string("task_id").value_or("")))) {
            ++impl.cancelled;
        } else {
            ++impl.ignored;
        }
        return true;
    } else if (e.type() == event::EventType::DocumentUploaded &&
               message.topic() == _options.documents_topic) {
        auto doc = std::string(e.string("document_id").value_or(""));
        task.id = "analyze-" + doc;
        task.type = "document_analysis";
        task.data = {{"document_id", doc}};
        for (const char* key : {"file_path", "document_name", "document_type"}) {
            if (auto v = e.string(key)) {
                task.data[key] = std::string(*v);
            }
        }
        task.requester = std::string(e.string("user_id").value_or(""));
    } else {
        ++impl.ignored;
        return false;
    }
    task.priority = e.priority();
    task.correlation_id = e.correlation_id() ? e.correlation_id() : std::optional(e.id());
    task.created_at = e.timestamp();
    if (auto t = task.data.find("timeout_ms");
        t != task.data.end() && t->is_number_integer() && t->get<std::int64_t>() > 0) {
        task.timeout = std::chrono::milliseconds(t->get<std::int64_t>());
    }
    if (auto r = task.data.find("max_retries");
        r != task.data.end() && r->is_number_integer() && r->get<int>() >= 0) {
        task.max_retries = r->get<int>();
    }
    auto id = task.id;
    {
        std::lock_guard lock(impl.mutex);
        if (impl.pending.count(id) != 0U) {
            // Already running from an earlier record: this one is done as it is.
            ++impl.duplicates;
            return true;
        }
        impl.pending.emplace(id, ctx.defer());  // open until the task ends
    }
    auto type = task.type;
    auto failed_task = task;
    switch (_orchestrator->submit(std::move(task))) {
        case agents::Orchestrator::Submit::Accepted: ++impl.tasks; break;
        case agents::Orchestrator::Submit::Duplicate:
            ++impl.duplicates;
            impl.task_ended(id, Kind::Completed);
            break;
        case agents::Orchestrator::Submit::NoAgent:
        case agents::Orchestrator::Submit::QueueFull: {
            ++impl.unassignable;
            TaskEvent f;
            f.kind = Kind::Failed;
            f.task = std::move(failed_task);
            f.at = now_utc();
            f.error = fmt::format("no agent can do tasks of type '{}'", type);
            impl.on_event(f);
            break;
        }
    }
    return true;
}

}  // namespace agentstream::processors
