#include <agentstream/pipeline/supervisor.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "internal/log.h"

namespace agentstream::pipeline {

using Clock = std::chrono::steady_clock;

Supervisor::Supervisor(SupervisorOptions options, Factory make)
    : _options(std::move(options)), _make(std::move(make)) {
    if (!_make) {
        throw std::invalid_argument("supervisor: a factory is required");
    }
    _current = _make();
    if (!_current) {
        throw std::invalid_argument("supervisor: the factory made no processor");
    }
    _thread = std::thread([this] { loop(); });
}

Supervisor::~Supervisor() {
    stop();
}

void Supervisor::stop() {
    std::shared_ptr<runtime::StreamProcessor> running;
    {
        std::lock_guard lock(_mutex);
        _stopping = true;
        running = _current;
    }
    _wake.notify_all();
    if (running) {
        running->stop();
    }
    if (_thread.joinable()) {
        _thread.join();
    }
}

std::shared_ptr<runtime::StreamProcessor> Supervisor::current() const {
    std::lock_guard lock(_mutex);
    return _current;
}

SupervisorStatus Supervisor::status() const {
    std::lock_guard lock(_mutex);
    auto s = _status;
    if (s.waiting) {
        s.next_restart_in = std::max(
            std::chrono::milliseconds(0),
            std::chrono::duration_cast<std::chrono::milliseconds>(_restart_at - Clock::now()));
    }
    return s;
}

void Supervisor::loop() {
    auto log = logger("run");
    auto backoff = _options.initial_backoff;
    bool fresh = true;  // _current has not run yet
    while (true) {
        std::string error;
        auto started = Clock::now();
        if (!fresh) {
            // A new instance for the one that failed.
            try {
                auto next = _make();
                if (!next) {
                    throw std::runtime_error("the factory made no processor");
                }
                std::lock_guard lock(_mutex);
                _current = std::move(next);
                ++_status.restarts;
                fresh = true;
                log->info("{}: restarted ({} restart(s))", _options.name, _status.restarts);
            } catch (const std::exception& e) {
                error = fmt::format("cannot be made again: {}", e.what());
            }
        }
        if (fresh) {
            std::shared_ptr<runtime::StreamProcessor> p;
            {
                std::lock_guard lock(_mutex);
                if (_stopping) {
                    return;
                }
                p = _current;
            }
            fresh = false;
            try {
                p->run();
                return;  // stopped
            } catch (const std::exception& e) {
                error = e.what();
            } catch (...) {
                error = "unknown exception";
            }
        }
        if (Clock::now() - started >= _options.stable_after) {
            backoff = _options.initial_backoff;
        }
        std::unique_lock lock(_mutex);
        ++_status.failures;
        _status.last_error = error;
        if (_stopping) {
            return;
        }
        _status.waiting = true;
        _restart_at = Clock::now() + backoff;
        log->error("{}: its run failed: {}; restarting in {} ms", _options.name, error,
                   backoff.count());
        _wake.wait_until(lock, _restart_at, [&] { return _stopping; });
        _status.waiting = false;
        if (_stopping) {
            return;
        }
        backoff = std::min(_options.max_backoff, backoff * 2);
    }
}

}  // namespace agentstream::pipeline
