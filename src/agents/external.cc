#include <agentstream/agents/external.h>
#include <agentstream/core/url.h>
#include <agentstream/event/types.h>

#include <agentstream/core/http_client.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace agentstream::agents {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json task_to_json(const Task& task, int attempt) {
    json j = {{"task_id", task.id},
              {"task_type", task.type},
              {"priority", std::string(event::to_string(task.priority))},
              {"task_data", task.data},
              {"attempt", attempt}};
    j["correlation_id"] = task.correlation_id ? json(*task.correlation_id) : json(nullptr);
    j["requester_id"] = task.requester;
    return j;
}

namespace {

// The result from an agent's reply body: a JSON object.
std::variant<TaskOutput, TaskError> result_of(const std::string& body, const std::string& who) {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        auto shown = body.substr(0, 200);
        return TaskError{fmt::format("{} did not answer with a JSON object: '{}'", who, shown),
                         false};
    }
    TaskOutput out;
    out.result = std::move(parsed);
    return out;
}

TaskOutcome outcome_of(std::variant<TaskOutput, TaskError> v) {
    if (auto* e = std::get_if<TaskError>(&v)) {
        return *e;
    }
    return std::get<TaskOutput>(std::move(v));
}

struct Fd {
    int fd = -1;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
};

std::string tail(const std::string& s, std::size_t n) {
    auto t = s.size() > n ? s.substr(s.size() - n) : s;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) {
        t.pop_back();
    }
    return t;
}

}  // namespace

CommandAgent::CommandAgent(CommandAgentOptions options) : _options(std::move(options)) {
    if (_options.argv.empty() || _options.argv[0].empty()) {
        throw std::invalid_argument("agent " + _options.info.id + ": command needs a program");
    }
}

TaskOutcome CommandAgent::process(const Task& task, const TaskContext& context) {
    const auto& program = _options.argv[0];
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
        ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        return TaskError{fmt::format("pipe: {}", std::strerror(errno)), true};
    }
    Fd in_w{in_pipe[1]}, out_r{out_pipe[0]}, err_r{err_pipe[0]};
    Fd in_r{in_pipe[0]}, out_w{out_pipe[1]}, err_w{err_pipe[1]};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
    if (!_options.working_directory.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, _options.working_directory.c_str());
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a timeout ends what it started too.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);

    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string_view::npos &&
            _options.environment.count(std::string(kv.substr(0, eq))) != 0U) {
            continue;
        }
        env_storage.emplace_back(kv);
    }
    for (const auto& [k, v] : _options.environment) {
        env_storage.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& s : env_storage) {
        envp.push_back(s.data());
    }
    envp.push_back(nullptr);
    std::vector<char*> argv;
    std::vector<std::string> args = _options.argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        return TaskError{fmt::format("cannot start {}: {}", program, std::strerror(rc)), false};
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();
    ::fcntl(in_w.fd, F_SETFL, O_NONBLOCK);

    std::string input = task_to_json(task, context.attempt()).dump() + "\n";
    std::size_t written = 0;
    std::string out, err;
    bool killed = false;
    bool too_big = false;
    std::string why_killed;
    Clock::time_point kill_at{};
    while (out_r.fd >= 0 || err_r.fd >= 0) {
        if (!killed && (context.stop_requested() || too_big)) {
            why_killed =
                too_big ? fmt::format("its output exceeded {} bytes", _options.max_output_bytes)
                : Clock::now() >= context.deadline() ? "it ran past the task's deadline"
                                                     : "the task was cancelled";
            ::kill(-pid, SIGTERM);
            killed = true;
            kill_at = Clock::now() + std::chrono::seconds(2);
        }
        if (killed && Clock::now() >= kill_at) {
            ::kill(-pid, SIGKILL);
            kill_at = Clock::time_point::max();
        }
        pollfd fds[3];
        int n = 0;
        int in_index = -1, out_index = -1, err_index = -1;
        if (in_w.fd >= 0) {
            fds[n] = {in_w.fd, POLLOUT, 0};
            in_index = n++;
        }
        if (out_r.fd >= 0) {
            fds[n] = {out_r.fd, POLLIN, 0};
            out_index = n++;
        }
        if (err_r.fd >= 0) {
            fds[n] = {err_r.fd, POLLIN, 0};
            err_index = n++;
        }
        if (::poll(fds, static_cast<nfds_t>(n), 50) < 0 && errno != EINTR) {
            break;
        }
        if (in_index >= 0 && (fds[in_index].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            auto w = ::write(in_w.fd, input.data() + written, input.size() - written);
            if (w > 0) {
                written += static_cast<std::size_t>(w);
            }
            if (written == input.size() || (w < 0 && errno != EAGAIN && errno != EINTR)) {
                in_w.reset();  // EOF for the agent (or it closed its stdin: fine)
            }
        }
        char buffer[65536];
        auto drain = [&](int index, Fd& fd, std::string& into) {
            if (index < 0 || (fds[index].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                return;
            }
            auto r = ::read(fd.fd, buffer, sizeof buffer);
            if (r > 0) {
                if (into.size() < _options.max_output_bytes) {
                    into.append(buffer, static_cast<std::size_t>(r));
                } else {
                    too_big = true;
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                fd.reset();
            }
        };
        drain(out_index, out_r, out);
        drain(err_index, err_r, err);
    }
    in_w.reset();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::kill(-pid, SIGKILL);  // anything it left behind in its group
    if (killed) {
        return TaskError{fmt::format("{} was stopped: {}", program, why_killed), !too_big};
    }
    if (WIFSIGNALED(status)) {
        return TaskError{fmt::format("{} was killed by signal {}{}", program, WTERMSIG(status),
                                     err.empty() ? "" : ": " + tail(err, 500)),
                         true};
    }
    if (WEXITSTATUS(status) != 0) {
        return TaskError{fmt::format("{} exited with status {}{}", program, WEXITSTATUS(status),
                                     err.empty() ? "" : ": " + tail(err, 500)),
                         true};
    }
    return outcome_of(result_of(out, program));
}

HttpAgent::HttpAgent(HttpAgentOptions options) : _options(std::move(options)) {
    std::string error;
    auto url = parse_http_url(_options.url, &error);
    if (!url) {
        throw std::invalid_argument("agent " + _options.info.id + ": " + error);
    }
    _url = std::move(*url);
}

TaskOutcome HttpAgent::process(const Task& task, const TaskContext& context) {
    auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(context.deadline() - Clock::now());
    if (left.count() <= 0) {
        return TaskError{"no time left before the task's deadline", true};
    }
    http::HttpPostOptions post;
    post.timeout = left;
    post.ca_file = _options.ca_file;
    post.headers.assign(_options.headers.begin(), _options.headers.end());
    auto res = http::post_json(_url, task_to_json(task, context.attempt()).dump(), post);
    if (!res.answered) {
        return TaskError{fmt::format("POST {}: {}", _options.url, res.error), true};
    }
    if (!res.ok()) {
        return TaskError{fmt::format("POST {}: HTTP {}{}", _options.url, res.status,
                                     res.body.empty() ? "" : ": " + tail(res.body, 300)),
                         res.retriable()};
    }
    return outcome_of(result_of(res.body, "POST " + _options.url));
}

}  // namespace agentstream::agents
