# Every dependency comes from a Debian bookworm -dev package; scripts/setup.sh installs them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
if(AGENTSTREAM_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  find_package(rapidcheck CONFIG REQUIRED)
endif()
if(AGENTSTREAM_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()

# jemalloc serves malloc in agentstream's own executables (docs/architecture.md says why: glibc
# malloc was a third of the processing thread, mostly librdkafka's records allocated on one
# thread and freed on another): the CLI, the tests, the benchmarks. Never in the libraries, so an
# application that links them keeps its own allocator. Sanitizer builds keep theirs too.
option(AGENTSTREAM_JEMALLOC "Link agentstream's own executables with jemalloc" ON)
# agentstream::program: what every executable of this project links (the shared compiler flags,
# and jemalloc with its options).
add_library(agentstream_program INTERFACE)
add_library(agentstream::program ALIAS agentstream_program)
target_link_libraries(agentstream_program INTERFACE agentstream::options)
if(AGENTSTREAM_JEMALLOC AND NOT AGENTSTREAM_SANITIZE AND NOT AGENTSTREAM_TSAN AND NOT AGENTSTREAM_FUZZ)
  pkg_check_modules(JEMALLOC REQUIRED jemalloc)
  # Debian's gcc links --as-needed, which would drop a library nothing calls by name.
  target_link_libraries(agentstream_program
                        INTERFACE "-Wl,--push-state,--no-as-needed,-ljemalloc,--pop-state")
  target_compile_definitions(agentstream_program INTERFACE AGENTSTREAM_JEMALLOC=1)
  # jemalloc's options (one arena) are a symbol it looks up in the executable: the file that
  # defines it is compiled into each executable.
  target_sources(agentstream_program INTERFACE ${PROJECT_SOURCE_DIR}/src/core/malloc_conf.cc)
endif()
