#include <agentstream/http/client.h>

#include <fmt/format.h>
#include <httplib.h>

namespace agentstream::http {

Result<Reply> get(const std::string& url, const std::string& path, const std::string& token,
                  std::chrono::seconds timeout) {
    if (!url.starts_with("http://")) {
        return failure(Error{fmt::format("'{}': expected http://HOST:PORT", url)});
    }
    httplib::Client client(url);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    httplib::Headers headers;
    if (!token.empty()) {
        headers.emplace("Authorization", "Bearer " + token);
    }
    auto res = client.Get(path.c_str(), headers);
    if (!res) {
        return failure(
            Error{fmt::format("cannot reach {}: {}", url, httplib::to_string(res.error()))});
    }
    return Reply{res->status, res->body};
}

}  // namespace agentstream::http
