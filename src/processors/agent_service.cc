#include <agentstream/core/logging.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/agent_service.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>

#include <fmt/format.h>

#include <mutex>
#include <thread>

#include "runtime/offset_tracker.h"

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
    std::unique_ptr<kafka::Producer> producer;
    std::atomic<kafka::Consumer*> consumer{nullptr};
    std::atomic<bool> stopping{false};
    mutable std::mutex mutex;  // offsets, pending
    std::map<kafka::TopicPartition, runtime::detail::OffsetTracker> offsets;
    std::unordered_map<std::string, std::pair<kafka::TopicPartition, std::int64_t>> pending;
    std::atomic<std::uint64_t> consumed{0}, tasks{0}, duplicates{0}, unassignable{0}, ignored{0},
        cancelled{0}, dead_lettered{0}, published{0}, publish_failures{0};

    explicit Impl(AgentServiceOptions& o) : options(o) {}

    void publish(const std::string& topic, const event::Event& e) {
        if (topic.empty() || !producer) {
            return;
        }
        auto status = producer->send(topic, e, [this](const kafka::DeliveryReport& r) {
            if (r.ok) {
                ++published;
            } else {
                ++publish_failures;
                logger("agents")->error("{}: an event to {} was not delivered: {}", options.name,
                                        r.topic, r.error);
            }
        });
        if (!status.ok()) {
            ++publish_failures;
            logger("agents")->error("{}: not sent to {}: {}", options.name, topic,
                                    status.error().message);
        }
    }

    // A record is done (its task ended, or it was no task): its offset may be committed.
    void done(const kafka::TopicPartition& tp, std::int64_t offset) {
        std::optional<std::int64_t> next;
        {
            std::lock_guard lock(mutex);
            auto it = offsets.find(tp);
            if (it != offsets.end()) {
                next = it->second.complete(offset);
            }
        }
        auto* c = consumer.load();
        if (next && c != nullptr) {
            c->store_offset(tp, *next);
        }
    }

    void task_ended(const std::string& id) {
        std::optional<std::pair<kafka::TopicPartition, std::int64_t>> where;
        {
            std::lock_guard lock(mutex);
            auto it = pending.find(id);
            if (it != pending.end()) {
                where = it->second;
                pending.erase(it);
            }
        }
        if (where) {
            done(where->first, where->second);
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
        auto task_event = [&](event::EventType type, const event::Fields& fields,
                              const event::Fields& more = {}) {
            auto ev =
                event::EventFactory::task(type, t.id, t.type, options.name, fields, envelope_of(t));
            for (const auto& f : more) {
                ev.set(f.name, f.value);
            }
            ev.set_timestamp(e.at);
            publish(options.tasks_topic, ev);
        };
        std::shared_ptr<notify::NotificationService> notices =
            options.notifications ? options.notifications() : nullptr;
        switch (e.kind) {
            case Kind::AgentBusy:
            case Kind::AgentIdle: {
                bool busy = e.kind == Kind::AgentBusy;
                auto ev = agent_event(event::EventType::AgentStatusChanged, e,
                                      busy ? "working" : "idle", {});
                publish(options.agents_topic, ev);
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
                publish(options.agents_topic, ev);
                break;
            }
            case Kind::Completed: {
                count(e, "completed");
                for (const auto& out : e.output.events) {
                    auto topic = options.result_topics.find(out.family());
                    if (topic != options.result_topics.end()) {
                        publish(topic->second, out);
                    }
                }
                auto ev = agent_event(event::EventType::AgentTaskCompleted, e, "working",
                                      {{"task_id", t.id}});
                publish(options.agents_topic, ev);
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
                task_ended(t.id);
                break;
            }
            case Kind::AttemptFailed:
            case Kind::Failed: {
                bool final = e.kind == Kind::Failed;
                if (!e.agent.id.empty()) {
                    count(e, e.timed_out ? "timed_out" : final ? "failed" : "retried");
                    auto ev = agent_event(event::EventType::AgentError, e, "error",
                                          {{"task_id", t.id}, {"error_message", e.error}});
                    publish(options.agents_topic, ev);
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
                    task_ended(t.id);
                }
                break;
            }
            case Kind::Cancelled:
                task_event(
                    event::EventType::TaskCancelled,
                    {{"error_message", e.error}, {"retry_count", std::max(0, e.attempt - 1)}});
                task_ended(t.id);
                break;
        }
    }
};

AgentService::AgentService(AgentServiceOptions options,
                           std::vector<std::shared_ptr<agents::Agent>> agents)
    : _options(std::move(options)), _impl(std::make_unique<Impl>(_options)) {
    if (_options.tasks_topic.empty()) {
        throw std::invalid_argument(_options.name + ": tasks_topic is required");
    }
    if (_options.group_id.empty()) {
        _options.group_id = _options.name;
    }
    _options.orchestrator.max_queued =
        std::max(_options.orchestrator.max_queued, _options.max_pending + 1);
    _orchestrator = std::make_unique<agents::Orchestrator>(
        _options.orchestrator, [impl = _impl.get()](const TaskEvent& e) { impl->on_event(e); });
    for (auto& a : agents) {
        _orchestrator->add_agent(std::move(a));
    }
}

AgentService::~AgentService() {
    stop();
    _orchestrator->stop();
}

void AgentService::stop() noexcept {
    _impl->stopping = true;
}

AgentServiceStats AgentService::stats() const {
    AgentServiceStats s;
    s.consumed = _impl->consumed;
    s.tasks = _impl->tasks;
    s.duplicates = _impl->duplicates;
    s.unassignable = _impl->unassignable;
    s.ignored = _impl->ignored;
    s.cancelled = _impl->cancelled;
    s.dead_lettered = _impl->dead_lettered;
    s.published = _impl->published;
    s.publish_failures = _impl->publish_failures;
    std::lock_guard lock(_impl->mutex);
    s.pending = _impl->pending.size();
    return s;
}

void AgentService::run() {
    auto& impl = *_impl;
    auto log = logger("agents");
    kafka::ProducerOptions po;
    static_cast<kafka::ClientOptions&>(po) = _options.client;
    po.client_id = _options.name;
    po.max_message_bytes = runtime::MAX_RECORD_BYTES;
    po.properties = _options.producer_properties;
    impl.producer = std::make_unique<kafka::Producer>(po);

    kafka::ConsumerOptions co;
    static_cast<kafka::ClientOptions&>(co) = _options.client;
    co.client_id = _options.name;
    co.group_id = _options.group_id;
    co.start_from = _options.start_from;
    co.properties = _options.consumer_properties;
    co.on_revoked = [&impl](const std::vector<kafka::TopicPartition>& parts) {
        // Their tasks may run elsewhere now; what ended is already stored.
        std::lock_guard lock(impl.mutex);
        for (const auto& tp : parts) {
            impl.offsets.erase(tp);
        }
    };
    kafka::Consumer consumer(co);
    std::vector<std::string> inputs = {_options.tasks_topic};
    if (!_options.documents_topic.empty()) {
        inputs.push_back(_options.documents_topic);
    }
    consumer.subscribe(inputs);
    impl.consumer = &consumer;

    // Agents announce themselves idle.
    for (const auto& a : _orchestrator->agents()) {
        TaskEvent e;
        e.kind = Kind::AgentIdle;
        e.agent = a.info;
        e.at = now_utc();
        impl.on_event(e);
    }

    bool paused = false;
    while (!impl.stopping) {
        std::size_t pending;
        {
            std::lock_guard lock(impl.mutex);
            pending = impl.pending.size();
        }
        if (!paused && pending >= _options.max_pending) {
            consumer.pause_all();
            paused = true;
        } else if (paused && pending <= _options.max_pending / 2) {
            consumer.resume_all();
            paused = false;
        }
        auto message = consumer.poll(std::chrono::milliseconds(100));
        if (!message) {
            continue;
        }
        ++impl.consumed;
        kafka::TopicPartition tp{std::string(message->topic()), message->partition()};
        auto offset = message->offset();
        {
            std::lock_guard lock(impl.mutex);
            impl.offsets[tp].add(offset);
        }
        auto decoded = message->is_null()
                           ? Result<event::Event, event::Violations>(failure(event::Violations{
                                 {"", event::ViolationKind::Malformed, "a record with no value"}}))
                           : event::decode(message->value());
        if (!decoded.ok()) {
            runtime::Failure f;
            f.error_class = runtime::ErrorClass::Invalid;
            f.message = event::describe(decoded.error());
            auto letter = runtime::make_dead_letter(*message, f, _options.name,
                                                    impl.producer->max_message_bytes());
            auto dlq = runtime::dead_letter_topic_for(message->topic());
            auto status = impl.producer->send(
                dlq, letter.key.value_or(std::string_view()),
                letter.value.value_or(std::string_view()), letter.headers,
                [&impl, tp, offset](const kafka::DeliveryReport& r) {
                    if (r.ok) {
                        ++impl.dead_lettered;
                        impl.done(tp, offset);
                    } else {
                        logger("agents")->error("dead letter not delivered: {}", r.error);
                    }
                });
            if (!status.ok()) {
                log->error("{}: dead letter not sent: {}", _options.name, status.error().message);
            }
            continue;
        }
        const auto& e = decoded.value();
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
            impl.done(tp, offset);
            continue;
        } else if (e.type() == event::EventType::DocumentUploaded &&
                   message->topic() == _options.documents_topic) {
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
            impl.done(tp, offset);
            continue;
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
            if (impl.pending.count(id) == 0U) {
                impl.pending.emplace(id, std::make_pair(tp, offset));
            } else {
                // Already running from an earlier record: this one is done as it is.
                id.clear();
            }
        }
        if (id.empty()) {
            ++impl.duplicates;
            impl.done(tp, offset);
            continue;
        }
        auto type = task.type;
        auto failed_task = task;
        switch (_orchestrator->submit(std::move(task))) {
            case agents::Orchestrator::Submit::Accepted: ++impl.tasks; break;
            case agents::Orchestrator::Submit::Duplicate:
                ++impl.duplicates;
                impl.task_ended(id);
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
    }
    // Stop: running tasks are cancelled (their inputs stay uncommitted), what ended is stored
    // and committed.
    _orchestrator->stop();
    impl.consumer = nullptr;
    impl.producer->flush(std::chrono::seconds(10));
    consumer.close();
    impl.producer.reset();
}

}  // namespace agentstream::processors
