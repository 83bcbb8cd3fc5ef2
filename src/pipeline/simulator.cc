#include <agentstream/pipeline/simulator.h>

#include <agentstream/core/logging.h>
#include <agentstream/core/time.h>
#include <agentstream/event/factory.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <queue>
#include <random>
#include <sstream>
#include <stdexcept>

namespace agentstream::pipeline {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

constexpr const char* SOURCE = "agentstream-simulator";

const std::vector<std::string> EXTERNAL_AGENTS = {"content_reviewer", "data_processor",
                                                  "report_generator"};
const std::vector<std::string> SERVICES = {"document_processor", "task_manager",
                                           "agent_orchestrator"};
const std::vector<std::string> ERRORS = {"Connection timeout", "Invalid input data",
                                         "Resource exhausted", "Processing failed",
                                         "Authentication error"};

std::string type_of(const std::string& name) {
    auto dot = name.rfind('.');
    return dot == std::string::npos ? "txt" : name.substr(dot + 1);
}

}  // namespace

EventMix parse_mix(const std::string& text) {
    EventMix mix;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        auto eq = item.find('=');
        if (eq == std::string::npos) {
            throw std::invalid_argument(
                fmt::format("'{}': expected NAME=PERCENT such as document=30", item));
        }
        auto name = item.substr(0, eq);
        double value = 0;
        try {
            std::size_t used = 0;
            value = std::stod(item.substr(eq + 1), &used);
            if (used != item.size() - eq - 1) {
                throw std::invalid_argument("trailing");
            }
        } catch (const std::exception&) {
            throw std::invalid_argument(fmt::format("'{}': the percentage is not a number", item));
        }
        if (value < 0 || value > 100) {
            throw std::invalid_argument(fmt::format("'{}': expected 0 to 100", item));
        }
        if (name == "document") {
            mix.document = value;
        } else if (name == "task") {
            mix.task = value;
        } else if (name == "agent") {
            mix.agent = value;
        } else if (name == "analytics") {
            mix.analytics = value;
        } else if (name == "notification") {
            mix.notification = value;
        } else {
            throw std::invalid_argument(fmt::format(
                "'{}': expected document, task, agent, analytics or notification", name));
        }
    }
    return mix;
}

Simulator::Simulator(SimulatorOptions options) : _options(std::move(options)) {
    const auto& m = _options.mix;
    if (!(_options.rate > 0)) {
        throw std::invalid_argument("the rate must be above 0 events per second");
    }
    if (_options.error_rate_percent < 0 || _options.error_rate_percent > 100) {
        throw std::invalid_argument("error_rate_percent must be 0 to 100");
    }
    if (m.document + m.task + m.agent + m.analytics + m.notification <= 0) {
        throw std::invalid_argument("the event mix is empty: give some family a share");
    }
    if (_options.documents.empty()) {
        throw std::invalid_argument("the simulator needs sample documents");
    }
}

Simulator::~Simulator() {
    stop();
}

void Simulator::start() {
    _producer = std::make_unique<kafka::Producer>(_options.producer);
    _thread = std::thread([this] { loop(); });
}

void Simulator::stop() {
    _stop = true;
    if (_thread.joinable()) {
        _thread.join();
    }
    if (_producer) {
        _producer->flush(10s);
    }
}

SimulatorCounts Simulator::counts() const {
    std::lock_guard lock(_mutex);
    return _counts;
}

kafka::DeliveryCallback Simulator::counter(std::string topic, std::string type, std::string fault) {
    return [this, topic = std::move(topic), type = std::move(type),
            fault = std::move(fault)](const kafka::DeliveryReport& r) {
        std::lock_guard lock(_mutex);
        if (!r.ok) {
            ++_counts.failed;
            return;
        }
        ++_counts.sent;
        ++_counts.by_topic[topic];
        if (!type.empty()) {
            ++_counts.by_type[type];
        }
        if (!fault.empty()) {
            ++_counts.faults[fault];
        }
    };
}

void Simulator::deliver(const std::string& topic, const std::string& type, std::string_view key,
                        std::string value, const std::string& fault) {
    auto on_delivery = counter(topic, type, fault);
    auto status = _producer->send(topic, key, value, {}, on_delivery);
    if (!status.ok()) {
        std::lock_guard lock(_mutex);
        ++_counts.failed;
    }
}

void Simulator::loop() {
    auto seed = _options.seed != 0
                    ? _options.seed
                    : static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    std::mt19937_64 rng(seed);
    auto uniform = [&](double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    auto pick = [&](const auto& v) -> const auto& {
        return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
    };
    auto chance = [&](double percent) { return uniform(0, 100) < percent; };
    auto send_event = [&](const std::string& topic, event::Event e, const std::string& fault = {}) {
        auto on_delivery = counter(topic, std::string(event::to_string(e.type())), fault);
        if (!_producer->send(topic, e, on_delivery).ok()) {
            std::lock_guard lock(_mutex);
            ++_counts.failed;
        }
    };
    auto envelope = [](const std::string& correlation,
                       event::Priority p = event::Priority::Medium) {
        event::EnvelopeOptions o;
        o.correlation_id = correlation;
        o.priority = p;
        return o;
    };

    // Follow-ups of correlated entities, due at a time.
    struct FollowUp {
        Clock::time_point due;
        std::function<void()> send;
        bool operator>(const FollowUp& o) const { return due > o.due; }
    };
    std::priority_queue<FollowUp, std::vector<FollowUp>, std::greater<>> follow_ups;
    std::uint64_t seq = 0;
    std::map<std::string, double> walk = {{"cpu_usage", 40},
                                          {"memory_usage", 55},
                                          {"requests_per_second", 40},
                                          {"response_time_ms", 250}};
    const auto& m = _options.mix;
    double total = m.document + m.task + m.agent + m.analytics + m.notification;
    auto start = Clock::now();
    auto period = std::chrono::duration<double>(1.0 / _options.rate);

    while (!_stop) {
        auto due =
            start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(seq));
        while (!follow_ups.empty() && follow_ups.top().due <= Clock::now()) {
            auto f = follow_ups.top();
            follow_ups.pop();
            f.send();
        }
        auto now = Clock::now();
        if (now < due) {
            auto wait = due - now;
            if (!follow_ups.empty()) {
                wait = std::min<Clock::duration>(wait, follow_ups.top().due - now);
            }
            std::this_thread::sleep_for(std::min<Clock::duration>(wait, 50ms));
            continue;
        }
        ++seq;
        {
            std::lock_guard lock(_mutex);
            ++_counts.scheduled;
        }
        double r = uniform(0, total);
        if ((r -= m.document) < 0) {
            auto id = fmt::format("doc-{}", seq);
            const auto& name = pick(_options.documents);
            std::error_code ec;
            auto size = std::filesystem::file_size(_options.documents_dir / name, ec);
            auto user = fmt::format("user_{}", std::uniform_int_distribution<int>(1, 10)(rng));
            send_event(_options.documents_topic,
                       event::EventFactory::document(
                           event::EventType::DocumentUploaded, id, SOURCE,
                           {{"document_name", name},
                            {"document_type", type_of(name)},
                            {"file_size", static_cast<std::int64_t>(ec ? 0 : size)},
                            {"file_path", name},
                            {"user_id", user},
                            {"status", "pending"}},
                           envelope(id)));
            // The upload service finishes processing it a little later.
            auto took = std::uniform_int_distribution<int>(300, 3000)(rng);
            follow_ups.push(
                {Clock::now() + std::chrono::milliseconds(took), [=, this, &send_event, &envelope] {
                     send_event(_options.documents_topic,
                                event::EventFactory::document(event::EventType::DocumentProcessed,
                                                              id, SOURCE,
                                                              {{"document_name", name},
                                                               {"processing_time_ms", took},
                                                               {"processing_stage", "extraction"},
                                                               {"user_id", user},
                                                               {"status", "done"}},
                                                              envelope(id)));
                 }});
        } else if ((r -= m.task) < 0) {
            auto id = fmt::format("task-{}", seq);
            static const std::vector<std::pair<event::Priority, double>> PRIORITIES = {
                {event::Priority::Low, 25},
                {event::Priority::Medium, 45},
                {event::Priority::High, 22},
                {event::Priority::Critical, 8}};
            double pr = uniform(0, 100);
            auto priority = event::Priority::Medium;
            for (const auto& [p, share] : PRIORITIES) {
                if ((pr -= share) < 0) {
                    priority = p;
                    break;
                }
            }
            json data;
            std::string type;
            switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
                case 0: {
                    type = "business_insight";
                    auto metric = pick(std::vector<std::string>{"revenue", "signups", "orders",
                                                                "churned_accounts"});
                    double level = uniform(50, 500);
                    double slope = uniform(-0.04, 0.06) * level;
                    bool spike = chance(30);
                    auto at = std::uniform_int_distribution<int>(3, 20)(rng);
                    json values = json::array();
                    for (int i = 0; i < 24; ++i) {
                        double v = level + slope * i + uniform(-0.03, 0.03) * level;
                        if (spike && i == at) {
                            v *= uniform(2.0, 3.5);
                        }
                        values.push_back(std::round(v * 100) / 100);
                    }
                    data = {{"metric", metric},
                            {"values", values},
                            {"period", "last 24 hours"},
                            {"data_freshness", "hourly"}};
                    break;
                }
                case 1:
                    type = "quality_check";
                    data = {{"file_path", pick(_options.documents)}};
                    data["document_id"] = fmt::format("doc-{}", seq);
                    break;
                default:
                    type = "document_analysis";
                    data = {{"file_path", pick(_options.documents)}};
                    data["document_id"] = fmt::format("doc-{}", seq);
                    break;
            }
            send_event(
                _options.tasks_topic,
                event::EventFactory::task(
                    event::EventType::TaskCreated, id, type, SOURCE,
                    {{"task_data", event::RawJson{data.dump()}},
                     {"requester_id",
                      fmt::format("user_{}", std::uniform_int_distribution<int>(1, 10)(rng))}},
                    envelope(id, priority)));
        } else if ((r -= m.agent) < 0) {
            const auto& role = pick(EXTERNAL_AGENTS);
            auto agent_id = role + "-1";
            auto task = fmt::format("ext-task-{}", seq);
            auto name = role;
            name[0] = static_cast<char>(std::toupper(name[0]));
            send_event(
                _options.agents_topic,
                event::EventFactory::agent(event::EventType::AgentTaskStarted, agent_id, name, role,
                                           "working", SOURCE, {{"task_id", task}}, envelope(task)));
            auto took = std::uniform_int_distribution<int>(500, 3000)(rng);
            follow_ups.push(
                {Clock::now() + std::chrono::milliseconds(took), [=, this, &send_event, &envelope] {
                     send_event(_options.agents_topic,
                                event::EventFactory::agent(
                                    event::EventType::AgentTaskCompleted, agent_id, name, role,
                                    "idle", SOURCE,
                                    {{"task_id", task},
                                     {"average_processing_time", static_cast<double>(took)}},
                                    envelope(task)));
                 }});
        } else if ((r -= m.analytics) < 0) {
            auto it = walk.begin();
            std::advance(it, std::uniform_int_distribution<int>(0, 3)(rng));
            auto& [metric, value] = *it;
            double step = metric == "response_time_ms" ? 25 : 3;
            value =
                std::clamp(value + uniform(-step, step), metric == "response_time_ms" ? 50.0 : 5.0,
                           metric == "response_time_ms" ? 2000.0 : 95.0);
            double reported = value;
            if (metric == "response_time_ms" && chance(2)) {
                reported = value * uniform(4, 8);  // a latency spike
            }
            const auto& service = pick(SERVICES);
            auto kind = metric == "requests_per_second" ? "gauge"
                        : metric == "response_time_ms"  ? "histogram"
                                                        : "gauge";
            send_event(_options.analytics_topic,
                       event::EventFactory::analytics(metric, std::round(reported * 100) / 100,
                                                      kind, service, SOURCE, {},
                                                      envelope(service + ":" + metric)));
        } else {
            static const std::vector<std::pair<std::string, std::string>> NOTICES = {
                {"success", "Task completed"},
                {"info", "New document available"},
                {"warning", "System maintenance tonight"},
                {"info", "Performance update"}};
            const auto& [type, title] = pick(NOTICES);
            auto user = fmt::format("user_{}", std::uniform_int_distribution<int>(1, 10)(rng));
            send_event(_options.notifications_topic,
                       event::EventFactory::notification(
                           type, title, fmt::format("System notification: {}", title), SOURCE,
                           {{"user_id", user}}, envelope(fmt::format("notice-{}", seq))));
        }
        if (_options.simulate_errors && chance(_options.error_rate_percent)) {
            switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
                case 0: {  // a record no consumer can decode
                    auto topic = pick(std::vector<std::string>{
                        _options.documents_topic, _options.tasks_topic, _options.agents_topic});
                    deliver(topic, "", "",
                            fmt::format("{{\"event_type\": \"task.created\", "
                                        "truncated at byte {}",
                                        seq),
                            "undecodable_record");
                    break;
                }
                case 1: {  // an agent reports an error
                    const auto& role = pick(EXTERNAL_AGENTS);
                    auto name = role;
                    name[0] = static_cast<char>(std::toupper(name[0]));
                    send_event(
                        _options.agents_topic,
                        event::EventFactory::agent(event::EventType::AgentError, role + "-1", name,
                                                   role, "error", SOURCE,
                                                   {{"task_id", fmt::format("error_task_{}", seq)},
                                                    {"error_message", pick(ERRORS)}},
                                                   envelope(fmt::format("error_task_{}", seq))),
                        "agent_error");
                    break;
                }
                case 2: {  // a task no agent can complete: too short a series
                    auto id = fmt::format("bad-task-{}", seq);
                    send_event(_options.tasks_topic,
                               event::EventFactory::task(
                                   event::EventType::TaskCreated, id, "business_insight", SOURCE,
                                   {{"task_data",
                                     event::RawJson{R"({"metric":"revenue","values":[1,2]})"}}},
                                   envelope(id)),
                               "impossible_task");
                    break;
                }
                default: {  // an upload whose file is missing
                    auto id = fmt::format("doc-missing-{}", seq);
                    send_event(_options.documents_topic,
                               event::EventFactory::document(event::EventType::DocumentUploaded, id,
                                                             SOURCE,
                                                             {{"document_name", "lost.pdf"},
                                                              {"document_type", "pdf"},
                                                              {"file_path", "lost.pdf"},
                                                              {"status", "pending"}},
                                                             envelope(id)),
                               "missing_document");
                    break;
                }
            }
        }
    }
    // Pending follow-ups still belong to what was generated: send them.
    while (!follow_ups.empty()) {
        follow_ups.top().send();
        follow_ups.pop();
    }
}

}  // namespace agentstream::pipeline
