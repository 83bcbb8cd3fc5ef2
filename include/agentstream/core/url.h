// HTTP(S) endpoint addresses as written in pipeline files (webhooks, HTTP agents).
#pragma once

#include <optional>
#include <string>

namespace agentstream {

struct HttpUrl {
    std::string origin;  ///< scheme://host[:port]
    std::string path;    ///< "/" when none is given
};

/// Splits `http[s]://HOST[:PORT][/PATH]`; nullopt with `*error` saying what was expected.
std::optional<HttpUrl> parse_http_url(const std::string& url, std::string* error);

}  // namespace agentstream
