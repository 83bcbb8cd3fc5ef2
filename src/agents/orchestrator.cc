#include <agentstream/agents/orchestrator.h>

#include <algorithm>
#include <stdexcept>

#include "internal/log.h"

namespace agentstream::agents {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto UTILISATION_WINDOW = std::chrono::seconds(60);

milliseconds ms_since(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration_cast<milliseconds>(to - from);
}

Timestamp wall_now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
}

}  // namespace

std::optional<Strategy> parse_strategy(std::string_view text) noexcept {
    if (text == "least_loaded") {
        return Strategy::LeastLoaded;
    }
    if (text == "round_robin") {
        return Strategy::RoundRobin;
    }
    if (text == "load_based") {
        return Strategy::LoadBased;
    }
    return std::nullopt;
}

std::string_view to_string(Strategy s) noexcept {
    switch (s) {
        case Strategy::LeastLoaded: return "least_loaded";
        case Strategy::RoundRobin: return "round_robin";
        case Strategy::LoadBased: return "load_based";
    }
    return "?";
}

std::string_view to_string(TaskState s) noexcept {
    switch (s) {
        case TaskState::Queued: return "queued";
        case TaskState::Running: return "running";
        case TaskState::RetryWait: return "retry_wait";
        case TaskState::Completed: return "completed";
        case TaskState::Failed: return "failed";
        case TaskState::Cancelled: return "cancelled";
    }
    return "?";
}

struct Orchestrator::AgentSlot {
    std::shared_ptr<Agent> agent;
    AgentInfo info;
    int running = 0;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    double total_task_ms = 0;
    // Busy slot-time: the integral of `running` over time, and snapshots of it (at most one a
    // second, the last UTILISATION_WINDOW) to take its rate from.
    double busy_ms = 0;
    Clock::time_point busy_since = Clock::now();
    std::deque<std::pair<Clock::time_point, double>> busy_samples;
};

struct Orchestrator::Record {
    Task task;
    TaskState state = TaskState::Queued;
    std::uint64_t sequence = 0;
    int attempts = 0;
    std::string agent_id;
    std::string last_error;
    Clock::time_point submitted_at;
    std::optional<milliseconds> queue_time;
    milliseconds execution_time{0};
    std::shared_ptr<Attempt> attempt;  // while running
};

struct Orchestrator::Attempt {
    Orchestrator::Record* record;  // valid while the record is Running with this attempt
    std::string task_id;
    Task task;
    AgentSlot* agent;
    int number = 1;
    Clock::time_point started;
    Clock::time_point deadline;
    std::atomic<bool> cancelled{false};
    bool abandoned = false;  // timed out or cancelled: the outcome is discarded (under _mutex)
    bool done = false;       // the thread returned (under _mutex)
    std::thread thread;
};

Orchestrator::Orchestrator(OrchestratorOptions options, TaskListener listener)
    : _options(options), _listener(std::move(listener)) {
    if (_options.max_retries < 0 || _options.task_timeout.count() <= 0) {
        throw std::invalid_argument("orchestrator: max_retries >= 0 and task_timeout > 0");
    }
    _dispatcher = std::thread([this] { dispatch_loop(); });
    _notifier = std::thread([this] { notify_loop(); });
}

Orchestrator::~Orchestrator() {
    stop();
}

void Orchestrator::add_agent(std::shared_ptr<Agent> agent) {
    if (!agent) {
        throw std::invalid_argument("orchestrator: null agent");
    }
    const auto& info = agent->info();
    if (info.capabilities.empty()) {
        throw std::invalid_argument("agent " + info.id + ": no capabilities");
    }
    if (info.max_concurrency < 1) {
        throw std::invalid_argument("agent " + info.id + ": max_concurrency must be >= 1");
    }
    std::lock_guard lock(_mutex);
    for (const auto& a : _agents) {
        if (a->info.id == info.id) {
            throw std::invalid_argument("agent " + info.id + " added twice");
        }
    }
    auto slot = std::make_unique<AgentSlot>();
    slot->info = info;
    slot->agent = std::move(agent);
    for (const auto& c : slot->info.capabilities) {
        _by_capability[c].push_back(slot.get());
    }
    _agents.push_back(std::move(slot));
    _wake.notify_all();
}

Orchestrator::Submit Orchestrator::submit(Task task) {
    std::lock_guard lock(_mutex);
    if (_tasks.count(task.id) != 0U) {
        ++_stats.duplicates;
        return Submit::Duplicate;
    }
    if (_by_capability.find(task.type) == _by_capability.end()) {
        return Submit::NoAgent;
    }
    if (_waiting >= _options.max_queued || _stopping) {
        return Submit::QueueFull;
    }
    auto r = std::make_unique<Record>();
    r->sequence = ++_sequence;
    r->submitted_at = Clock::now();
    r->task = std::move(task);
    auto& level = _queues[r->task.type][static_cast<std::size_t>(r->task.priority)];
    level.emplace(r->sequence, r->task.id);
    ++_waiting;
    ++_stats.submitted;
    _tasks.emplace(r->task.id, std::move(r));
    _wake.notify_all();
    return Submit::Accepted;
}

bool Orchestrator::cancel(const std::string& task_id) {
    std::lock_guard lock(_mutex);
    auto it = _tasks.find(task_id);
    if (it == _tasks.end()) {
        return false;
    }
    auto& r = *it->second;
    switch (r.state) {
        case TaskState::Queued:
            _queues[r.task.type][static_cast<std::size_t>(r.task.priority)].erase(r.sequence);
            --_waiting;
            break;
        case TaskState::RetryWait:
            for (auto d = _delayed.begin(); d != _delayed.end(); ++d) {
                if (d->second == task_id) {
                    _delayed.erase(d);
                    break;
                }
            }
            --_waiting;
            break;
        case TaskState::Running:
            r.attempt->cancelled = true;
            r.attempt->abandoned = true;
            r.attempt->record = nullptr;
            r.attempt.reset();
            break;
        default: return false;
    }
    TaskEvent e;
    e.kind = TaskEvent::Kind::Cancelled;
    e.task = r.task;
    e.attempt = r.attempts;
    e.error = "cancelled";
    emit(std::move(e));
    finish(r, TaskState::Cancelled);
    ++_stats.cancelled;
    _wake.notify_all();
    _idle.notify_all();
    return true;
}

std::optional<TaskStatus> Orchestrator::status(const std::string& task_id) const {
    std::lock_guard lock(_mutex);
    auto it = _tasks.find(task_id);
    if (it == _tasks.end()) {
        return std::nullopt;
    }
    const auto& r = *it->second;
    TaskStatus s;
    s.id = r.task.id;
    s.type = r.task.type;
    s.priority = r.task.priority;
    s.state = r.state;
    s.agent_id = r.agent_id;
    s.attempts = r.attempts;
    s.last_error = r.last_error;
    s.queue_time = r.queue_time.value_or(milliseconds(0));
    s.execution_time = r.execution_time;
    return s;
}

std::vector<AgentLoad> Orchestrator::agents() const {
    std::lock_guard lock(_mutex);
    auto now = Clock::now();
    std::vector<AgentLoad> out;
    for (const auto& a : _agents) {
        AgentLoad l;
        l.info = a->info;
        l.running = a->running;
        l.completed = a->completed;
        l.errors = a->errors;
        l.mean_task_ms = a->completed ? a->total_task_ms / static_cast<double>(a->completed) : 0;
        double busy_now =
            a->busy_ms +
            a->running * std::chrono::duration<double, std::milli>(now - a->busy_since).count();
        l.busy_ms = busy_now;
        if (!a->busy_samples.empty()) {
            const auto& [t0, b0] = a->busy_samples.front();
            double span = std::chrono::duration<double, std::milli>(now - t0).count();
            if (span >= 1) {
                l.utilisation_percent = std::clamp(
                    100.0 * (busy_now - b0) / (span * a->info.max_concurrency), 0.0, 100.0);
            }
        }
        l.health = a->agent->health();
        out.push_back(std::move(l));
    }
    return out;
}

OrchestratorStats Orchestrator::stats() const {
    std::lock_guard lock(_mutex);
    auto s = _stats;
    s.queued = _waiting;
    s.running = _running.size();
    return s;
}

bool Orchestrator::wait_idle(milliseconds timeout) const {
    std::unique_lock lock(_mutex);
    return _idle.wait_for(lock, timeout, [&] {
        return _waiting == 0 && std::none_of(_running.begin(), _running.end(),
                                             [](const auto& a) { return a->record != nullptr; });
    });
}

void Orchestrator::stop() {
    {
        std::lock_guard lock(_mutex);
        if (_stopping && !_dispatcher.joinable()) {
            return;
        }
        _stopping = true;
        for (auto& a : _running) {
            a->cancelled = true;
        }
        _wake.notify_all();
    }
    if (_dispatcher.joinable()) {
        _dispatcher.join();
    }
    {
        std::lock_guard lock(_mutex);
        _notifier_done = true;
        _notify_wake.notify_all();
    }
    if (_notifier.joinable()) {
        _notifier.join();
    }
}

void Orchestrator::emit(TaskEvent e) {
    e.at = wall_now();
    _events.push_back(std::move(e));
    _notify_wake.notify_one();
}

void Orchestrator::finish(Record& r, TaskState state) {
    r.state = state;
    r.attempt.reset();
    _finished.push_back(r.task.id);
    while (_finished.size() > _options.history) {
        auto old = _tasks.find(_finished.front());
        if (old != _tasks.end() && old->second->state != TaskState::Queued &&
            old->second->state != TaskState::Running &&
            old->second->state != TaskState::RetryWait) {
            _tasks.erase(old);
        }
        _finished.pop_front();
    }
}

void Orchestrator::attempt_failed(Record& r, TaskEvent e, bool retriable, Clock::time_point now) {
    int max_retries = r.task.max_retries.value_or(_options.max_retries);
    if (retriable && e.attempt <= max_retries && !_stopping) {
        auto backoff = _options.retry_backoff * (std::int64_t{1} << std::min(e.attempt - 1, 20));
        backoff = std::min<milliseconds>(_options.max_backoff, backoff);
        e.kind = TaskEvent::Kind::AttemptFailed;
        e.retry_in = backoff;
        r.state = TaskState::RetryWait;
        _delayed.emplace(now + backoff, r.task.id);
        ++_waiting;
        ++_stats.retries;
        emit(std::move(e));
    } else {
        e.kind = TaskEvent::Kind::Failed;
        emit(std::move(e));
        finish(r, TaskState::Failed);
        ++_stats.failed;
        _idle.notify_all();
    }
}

void Orchestrator::timed_out(Attempt& a, Clock::time_point now) {
    a.cancelled = true;
    a.abandoned = true;
    auto& r = *a.record;
    a.record = nullptr;
    ++_stats.timeouts;
    ++a.agent->errors;
    r.attempt.reset();
    r.execution_time = ms_since(a.started, now);
    r.last_error =
        "timed out after " + std::to_string(ms_since(a.started, a.deadline).count()) + " ms";
    TaskEvent e;
    e.task = r.task;
    e.agent = a.agent->info;
    e.attempt = a.number;
    e.timed_out = true;
    e.error = r.last_error;
    e.execution_time = r.execution_time;
    e.agent_running = a.agent->running;
    e.agent_completed = a.agent->completed;
    e.agent_errors = a.agent->errors;
    attempt_failed(r, std::move(e), true, now);
}

void Orchestrator::account_busy(AgentSlot& a, Clock::time_point now) {
    a.busy_ms += a.running * std::chrono::duration<double, std::milli>(now - a.busy_since).count();
    a.busy_since = now;
}

void Orchestrator::agent_event(TaskEvent::Kind kind, AgentSlot& a) {
    TaskEvent e;
    e.kind = kind;
    e.agent = a.info;
    e.agent_running = a.running;
    e.agent_completed = a.completed;
    e.agent_errors = a.errors;
    emit(std::move(e));
}

Orchestrator::AgentSlot* Orchestrator::choose(const std::string& type, Clock::time_point) {
    auto it = _by_capability.find(type);
    if (it == _by_capability.end()) {
        return nullptr;
    }
    auto& candidates = it->second;
    auto n = candidates.size();
    auto& turn = _turn[type];
    AgentSlot* best = nullptr;
    double best_score = 0;
    for (std::size_t k = 0; k < n; ++k) {
        auto* a = candidates[(turn + k) % n];
        if (a->running >= a->info.max_concurrency) {
            continue;
        }
        if (_options.strategy == Strategy::RoundRobin) {
            turn = (turn + k + 1) % n;
            return a;
        }
        double score = 0;
        if (_options.strategy == Strategy::LeastLoaded) {
            score = static_cast<double>(a->running) / a->info.max_concurrency;
        } else {  // LoadBased: expected ms until a new task would be done
            double mean = a->completed ? a->total_task_ms / static_cast<double>(a->completed) : 1;
            score = (a->running + 1) * std::max(mean, 1.0) / a->info.max_concurrency;
        }
        if (best == nullptr || score < best_score) {
            best = a;
            best_score = score;
        }
    }
    if (best != nullptr) {
        // Ties go to the agents in turn.
        for (std::size_t k = 0; k < n; ++k) {
            if (candidates[k] == best) {
                turn = (k + 1) % n;
                break;
            }
        }
    }
    return best;
}

void Orchestrator::dispatch_loop() {
    std::unique_lock lock(_mutex);
    auto last_sample = Clock::now() - std::chrono::seconds(1);
    while (true) {
        auto now = Clock::now();
        // Threads of attempts that returned.
        for (auto it = _running.begin(); it != _running.end();) {
            if ((*it)->done) {
                (*it)->thread.join();
                it = _running.erase(it);
            } else {
                ++it;
            }
        }
        if (_stopping) {
            if (_running.empty()) {
                break;
            }
            _wake.wait_for(lock, milliseconds(50));
            continue;
        }
        if (now - last_sample >= std::chrono::seconds(1)) {
            last_sample = now;
            for (auto& a : _agents) {
                account_busy(*a, now);
                a->busy_samples.emplace_back(now, a->busy_ms);
                while (a->busy_samples.size() > 1 &&
                       now - a->busy_samples.front().first > UTILISATION_WINDOW) {
                    a->busy_samples.pop_front();
                }
            }
        }
        // Deadlines of running attempts.
        for (auto& a : _running) {
            if (a->record != nullptr && !a->abandoned && now >= a->deadline) {
                timed_out(*a, now);  // its slot stays taken until it returns
            }
        }
        // Retries whose backoff is over go back to their queue, in their original place.
        while (!_delayed.empty() && _delayed.begin()->first <= now) {
            auto id = _delayed.begin()->second;
            _delayed.erase(_delayed.begin());
            auto it = _tasks.find(id);
            if (it != _tasks.end() && it->second->state == TaskState::RetryWait) {
                auto& r = *it->second;
                r.state = TaskState::Queued;
                _queues[r.task.type][static_cast<std::size_t>(r.task.priority)].emplace(r.sequence,
                                                                                        r.task.id);
            }
        }
        // Dispatch: the highest priority, oldest task whose type has an agent with a free slot.
        bool started = true;
        while (started) {
            started = false;
            Record* pick = nullptr;
            for (auto& [type, levels] : _queues) {
                for (int p = 3; p >= 0; --p) {
                    auto& level = levels[static_cast<std::size_t>(p)];
                    if (level.empty()) {
                        continue;
                    }
                    auto& candidate = *_tasks.at(level.begin()->second);
                    if (pick == nullptr || p > static_cast<int>(pick->task.priority) ||
                        (p == static_cast<int>(pick->task.priority) &&
                         candidate.sequence < pick->sequence)) {
                        // Only worth it if an agent can take it now.
                        bool free = false;
                        for (auto* a : _by_capability[type]) {
                            free = free || a->running < a->info.max_concurrency;
                        }
                        if (free) {
                            pick = &candidate;
                        }
                    }
                    break;  // lower levels of this type wait for this one
                }
            }
            if (pick == nullptr) {
                break;
            }
            auto* agent = choose(pick->task.type, now);
            if (agent == nullptr) {
                break;
            }
            _queues[pick->task.type][static_cast<std::size_t>(pick->task.priority)].erase(
                pick->sequence);
            --_waiting;
            auto attempt = std::make_shared<Attempt>();
            attempt->record = pick;
            attempt->task_id = pick->task.id;
            attempt->task = pick->task;
            attempt->agent = agent;
            attempt->number = ++pick->attempts;
            attempt->started = now;
            attempt->deadline = now + pick->task.timeout.value_or(_options.task_timeout);
            pick->state = TaskState::Running;
            pick->agent_id = agent->info.id;
            pick->attempt = attempt;
            if (!pick->queue_time) {
                auto created = pick->task.created_at;
                auto wall = std::chrono::system_clock::now();
                pick->queue_time = created.time_since_epoch().count() > 0 && created <= wall
                                       ? std::chrono::duration_cast<milliseconds>(wall - created)
                                       : ms_since(pick->submitted_at, now);
            }
            account_busy(*agent, now);
            if (agent->running++ == 0) {
                agent_event(TaskEvent::Kind::AgentBusy, *agent);
            }
            TaskEvent e;
            e.kind = TaskEvent::Kind::Assigned;
            e.task = pick->task;
            e.agent = agent->info;
            e.attempt = attempt->number;
            e.queue_time = *pick->queue_time;
            e.agent_running = agent->running;
            e.agent_completed = agent->completed;
            e.agent_errors = agent->errors;
            emit(std::move(e));
            _running.push_back(attempt);
            attempt->thread = std::thread([this, attempt] { run_attempt(attempt); });
            started = true;
        }
        // Sleep until something changes or the next deadline / retry / sample.
        auto until = now + std::chrono::seconds(1);
        for (const auto& a : _running) {
            if (a->record != nullptr && !a->abandoned) {
                until = std::min(until, a->deadline);
            }
        }
        if (!_delayed.empty()) {
            until = std::min(until, _delayed.begin()->first);
        }
        _wake.wait_until(lock, until);
    }
}

void Orchestrator::run_attempt(std::shared_ptr<Attempt> attempt) {
    TaskContext context(attempt->cancelled, attempt->deadline, attempt->number);
    std::optional<TaskOutcome> outcome;
    try {
        outcome.emplace(attempt->agent->agent->process(attempt->task, context));
    } catch (const std::exception& e) {
        outcome.emplace(TaskError{std::string("agent threw: ") + e.what(), true});
    } catch (...) {
        outcome.emplace(TaskError{"agent threw an unknown exception", true});
    }
    auto now = Clock::now();
    std::lock_guard lock(_mutex);
    auto& agent = *attempt->agent;
    account_busy(agent, now);
    --agent.running;
    attempt->done = true;
    if (!attempt->abandoned && attempt->record != nullptr && now >= attempt->deadline) {
        // It answered, but after its deadline (before the dispatcher noticed): a timeout all
        // the same, whatever it returned.
        timed_out(*attempt, now);
    } else if (!attempt->abandoned && attempt->record != nullptr) {
        auto& r = *attempt->record;
        attempt->record = nullptr;
        r.attempt.reset();
        r.execution_time = ms_since(attempt->started, now);
        TaskEvent e;
        e.task = r.task;
        e.agent = agent.info;
        e.attempt = attempt->number;
        e.queue_time = r.queue_time.value_or(milliseconds(0));
        e.execution_time = r.execution_time;
        if (outcome->ok()) {
            ++agent.completed;
            agent.total_task_ms += static_cast<double>(r.execution_time.count());
            e.kind = TaskEvent::Kind::Completed;
            e.output = std::move(outcome->output());
            ++_stats.completed;
            e.agent_running = agent.running;
            e.agent_completed = agent.completed;
            e.agent_errors = agent.errors;
            emit(std::move(e));
            finish(r, TaskState::Completed);
        } else {
            ++agent.errors;
            r.last_error = outcome->error().message;
            e.error = r.last_error;
            e.agent_running = agent.running;
            e.agent_completed = agent.completed;
            e.agent_errors = agent.errors;
            attempt_failed(r, std::move(e), outcome->error().retriable, now);
        }
    }
    if (agent.running == 0) {
        agent_event(TaskEvent::Kind::AgentIdle, agent);
    }
    _wake.notify_all();
    _idle.notify_all();
}

void Orchestrator::notify_loop() {
    std::unique_lock lock(_mutex);
    while (true) {
        _notify_wake.wait(lock, [&] { return !_events.empty() || _notifier_done; });
        if (_events.empty() && _notifier_done) {
            return;
        }
        auto batch = std::move(_events);
        _events.clear();
        lock.unlock();
        for (auto& e : batch) {
            if (_listener) {
                try {
                    _listener(e);
                } catch (const std::exception& ex) {
                    logger("agents")->error("task listener threw: {}", ex.what());
                }
            }
        }
        lock.lock();
    }
}

}  // namespace agentstream::agents
