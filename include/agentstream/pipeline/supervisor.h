// Supervisor: keeps one processor running on a thread of its own. When its run() throws, the
// error is logged and shown (the processor is unhealthy while it waits), and a new instance is
// made and run after a backoff that doubles from initial_backoff up to max_backoff; a run that
// lasted stable_after resets the backoff. Never std::terminate: nothing a processor throws
// leaves its thread.
#pragma once

#include <agentstream/runtime/processor.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace agentstream::pipeline {

struct SupervisorOptions {
    std::string name;  ///< for logs
    std::chrono::milliseconds initial_backoff{1'000};
    std::chrono::milliseconds max_backoff{60'000};
    std::chrono::milliseconds stable_after{60'000};
};

struct SupervisorStatus {
    std::uint64_t restarts = 0;  ///< instances made after a failure
    std::uint64_t failures = 0;  ///< runs that threw
    bool waiting = false;        ///< failed, waiting for its restart
    std::chrono::milliseconds next_restart_in{0};
    std::string last_error;  ///< what the last failed run threw
};

class Supervisor {
  public:
    using Factory = std::function<std::shared_ptr<runtime::StreamProcessor>()>;

    /// Makes the first instance here (what the factory throws, a bad configuration, reaches the
    /// caller) and starts running it.
    Supervisor(SupervisorOptions options, Factory make);
    /// Stops and joins.
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    /// Stops the running instance (it drains and commits) and any restart; joins. Idempotent.
    void stop();
    /// The instance running now (or the last one); never null.
    std::shared_ptr<runtime::StreamProcessor> current() const;
    SupervisorStatus status() const;
    const std::string& name() const noexcept { return _options.name; }

  private:
    void loop();
    SupervisorOptions _options;
    Factory _make;
    mutable std::mutex _mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    std::shared_ptr<runtime::StreamProcessor> _current;
    SupervisorStatus _status;
    std::chrono::steady_clock::time_point _restart_at{};
    std::thread _thread;
};

}  // namespace agentstream::pipeline
