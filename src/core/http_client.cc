#include <agentstream/core/http_client.h>

#include <fmt/format.h>
#include <httplib.h>

namespace agentstream::http {

HttpPostResult post_json(const HttpUrl& url, const std::string& body,
                         const HttpPostOptions& options) {
    httplib::Client client(url.origin);
    if (!options.ca_file.empty()) {
        client.set_ca_cert_path(options.ca_file);
    }
    client.set_connection_timeout(options.timeout);
    client.set_read_timeout(options.timeout);
    client.set_write_timeout(options.timeout);
    httplib::Headers headers;
    for (const auto& [name, value] : options.headers) {
        headers.emplace(name, value);
    }
    HttpPostResult result;
    auto res = client.Post(url.path.c_str(), headers, body, "application/json");
    if (!res) {
        result.error = httplib::to_string(res.error());
        return result;
    }
    result.answered = true;
    result.status = res->status;
    result.body = std::move(res->body);
    return result;
}

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
