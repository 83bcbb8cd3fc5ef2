// The HTTP client calls agentstream makes (cpp-httplib kept out of the callers): a JSON POST
// for webhooks and HTTP agents, a GET for `agentstream status` and tests.
#pragma once

#include <agentstream/core/result.h>
#include <agentstream/core/url.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace agentstream::http {

struct HttpPostOptions {
    std::chrono::microseconds timeout{std::chrono::seconds(10)};
    std::string ca_file;  ///< PEM bundle for https; empty: the system's
    std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpPostResult {
    bool answered = false;  ///< false: no HTTP answer (connection, TLS, timeout); see `error`
    int status = 0;
    std::string body;
    std::string error;  ///< why there was no answer

    bool ok() const noexcept { return answered && status >= 200 && status < 300; }
    /// Worth trying again: no answer, 408, 429 or 5xx. Other answers are final.
    bool retriable() const noexcept {
        return !answered || status == 408 || status == 429 || status >= 500;
    }
};

/// One POST of `body` as application/json, one timeout for connecting, sending and receiving.
HttpPostResult post_json(const HttpUrl& url, const std::string& body,
                         const HttpPostOptions& options);

struct Reply {
    int status = 0;
    std::string body;
};

/// GET `url` + `path` (url like `http://127.0.0.1:8686`), with `Authorization: Bearer token`
/// when `token` is not empty. An error when the server cannot be reached or the URL is bad.
Result<Reply> get(const std::string& url, const std::string& path, const std::string& token = {},
                  std::chrono::seconds timeout = std::chrono::seconds(5));

}  // namespace agentstream::http
