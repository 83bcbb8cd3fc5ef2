// A small HTTP client for `agentstream status` and tests: one GET, with a timeout.
#pragma once

#include <agentstream/core/result.h>

#include <chrono>
#include <string>

namespace agentstream::http {

struct Reply {
    int status = 0;
    std::string body;
};

/// GET `url` + `path` (url like `http://127.0.0.1:8686`), with `Authorization: Bearer token`
/// when `token` is not empty. An error when the server cannot be reached or the URL is bad.
Result<Reply> get(const std::string& url, const std::string& path, const std::string& token = {},
                  std::chrono::seconds timeout = std::chrono::seconds(5));

}  // namespace agentstream::http
