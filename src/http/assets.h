// The dashboard's files, compiled into the binary (cmake/EmbedAssets.cmake).
#pragma once

#include <span>
#include <string_view>

namespace agentstream::http {

struct EmbeddedAsset {
    std::string_view path;  ///< the URL path, such as `/` or `/assets/uPlot.min.js`
    std::string_view mime;
    std::string_view body;
};

std::span<const EmbeddedAsset> embedded_assets() noexcept;

}  // namespace agentstream::http
