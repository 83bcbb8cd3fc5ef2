#include <agentstream/core/url.h>

#include <fmt/format.h>

namespace agentstream {

std::optional<HttpUrl> parse_http_url(const std::string& url, std::string* error) {
    std::size_t scheme = url.starts_with("http://") ? 7 : url.starts_with("https://") ? 8 : 0;
    auto slash = scheme == 0 ? std::string::npos : url.find('/', scheme);
    if (scheme == 0 || url.size() <= scheme || slash == scheme) {
        *error = fmt::format("'{}': expected http://HOST[:PORT]/PATH or https://...", url);
        return std::nullopt;
    }
    return HttpUrl{url.substr(0, slash), slash == std::string::npos ? "/" : url.substr(slash)};
}

}  // namespace agentstream
