#include <agentstream/core/allocator.h>

#include <dlfcn.h>

#include <cstddef>
#include <string>

namespace agentstream {

std::string allocator_name() {
    // Looked up rather than called: the library builds and runs the same with either allocator.
    using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
    auto* mallctl = reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"));
    if (mallctl == nullptr) {
        return "system malloc";
    }
    const char* version = nullptr;
    std::size_t size = sizeof version;
    std::string name = "jemalloc";
    if (mallctl("version", static_cast<void*>(&version), &size, nullptr, 0) == 0 &&
        version != nullptr) {
        name += ' ';
        name += version;
    }
    unsigned arenas = 0;
    size = sizeof arenas;
    if (mallctl("opt.narenas", static_cast<void*>(&arenas), &size, nullptr, 0) == 0) {
        name += arenas == 1 ? " (1 arena)" : " (" + std::to_string(arenas) + " arenas)";
    }
    return name;
}

}  // namespace agentstream
