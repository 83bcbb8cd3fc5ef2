// The demo's load simulator: events of every family at a steady rate, with the design's knobs
// (rate, event mix percentages, simulate_errors, error_rate_percent). Entities are correlated:
// an uploaded document is later processed under the same id; tasks are real work for the
// agents (documents from samples/, series for insights), whose lifecycle events then share
// the task's id; simulated external agents start and later complete the same task. Errors are
// real faults for the system to handle: undecodable records, agent errors, tasks that cannot
// succeed. Counts are of records the broker acknowledged.
#pragma once

#include <agentstream/kafka/producer.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace agentstream::pipeline {

struct EventMix {
    double document = 30, task = 25, agent = 20, analytics = 15, notification = 10;
};

struct SimulatorOptions {
    double rate = 5.0;  ///< events per second (errors come on top)
    EventMix mix;
    bool simulate_errors = true;
    double error_rate_percent = 3.0;
    /// Sample documents: names as the document analyzer finds them under its first root, and
    /// that directory (for their sizes).
    std::vector<std::string> documents;
    std::filesystem::path documents_dir;
    std::uint64_t seed = 0;  ///< 0: from the clock
    std::string documents_topic = "documents", tasks_topic = "tasks", agents_topic = "agents",
                analytics_topic = "analytics", notifications_topic = "notifications";
    kafka::ProducerOptions producer;
};

struct SimulatorCounts {
    std::map<std::string, std::uint64_t> by_type;   ///< acknowledged, by event type
    std::map<std::string, std::uint64_t> by_topic;  ///< acknowledged, by topic (all records)
    std::map<std::string, std::uint64_t> faults;    ///< injected, by kind
    std::uint64_t sent = 0;       ///< acknowledged records, faults and follow-ups included
    std::uint64_t scheduled = 0;  ///< events drawn at the configured rate (follow-ups, faults not)
    std::uint64_t failed = 0;     ///< not acknowledged
};

class Simulator {
  public:
    /// Throws std::invalid_argument for a rate <= 0, percentages outside [0, 100] or an empty
    /// mix.
    explicit Simulator(SimulatorOptions options);
    ~Simulator();  ///< stops
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    void start();
    /// Stops generating and waits for the outstanding acknowledgements (up to 10 s).
    void stop();
    SimulatorCounts counts() const;

  private:
    void loop();
    // A delivery callback that counts the record (by topic, type and fault) once acknowledged.
    kafka::DeliveryCallback counter(std::string topic, std::string type, std::string fault);
    void deliver(const std::string& topic, const std::string& type, std::string_view key,
                 std::string value, const std::string& fault = {});

    SimulatorOptions _options;
    std::unique_ptr<kafka::Producer> _producer;
    std::atomic<bool> _stop{false};
    std::thread _thread;
    mutable std::mutex _mutex;
    SimulatorCounts _counts;
};

/// Parses `document=30,task=25,agent=20,analytics=15,notification=10` (any subset; the rest
/// keep their defaults). Throws std::invalid_argument saying what is wrong.
EventMix parse_mix(const std::string& text);

}  // namespace agentstream::pipeline
