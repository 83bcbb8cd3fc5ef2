# Compiler flags shared by every agentstream target, applied through one interface target.
add_library(agentstream_options INTERFACE)
add_library(agentstream::options ALIAS agentstream_options)
target_compile_options(agentstream_options INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                                     -Wpedantic
                                                     # g++ 12 warns on designated initialisers that
                                                     # leave members to their defaults (PR 96868)
                                                     -Wno-missing-field-initializers)
if(AGENTSTREAM_WERROR)
  target_compile_options(agentstream_options INTERFACE -Werror)
endif()
if(AGENTSTREAM_SANITIZE)
  # -g1: line tables are all a sanitizer report needs. -O1 (after the build type's -O2): the
  # level AddressSanitizer's documentation suggests; a heavy test file compiles in two thirds
  # of the time (26 s -> 17 s), and the tests under it take seconds either way. g++ 12 at -O1
  # reports std::optional<std::string> moves as maybe-uninitialized (a known false positive);
  # the release build keeps that warning.
  target_compile_options(agentstream_options INTERFACE -fsanitize=address,undefined -g1 -O1
                                                       -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(agentstream_options INTERFACE -Wno-maybe-uninitialized)
  endif()
  target_link_options(agentstream_options INTERFACE -fsanitize=address,undefined)
endif()
# ThreadSanitizer, for the runtime's threads (processing thread, delivery reports, metrics
# readers). librdkafka itself is not instrumented; its pthread locks are still seen.
option(AGENTSTREAM_TSAN "Build with ThreadSanitizer" OFF)
# libFuzzer (clang only): every library instrumented for coverage, with ASan + UBSan; the
# targets in fuzz/ link libFuzzer's driver.
option(AGENTSTREAM_FUZZ "Build the libFuzzer targets (CXX=clang++)" OFF)
# With AGENTSTREAM_SANITIZE, one tree builds the tests and the fuzz targets (scripts/test.sh).
if(AGENTSTREAM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AGENTSTREAM_FUZZ needs clang: configure with CXX=clang++ CC=clang")
  endif()
  target_compile_options(agentstream_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                       -fno-sanitize-recover=all -g1 -O1
                                                       -fno-omit-frame-pointer)
  target_link_options(agentstream_options INTERFACE -fsanitize=address,undefined)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # spdlog's and fmt's headers use statement expressions, which -Wpedantic reports under clang.
  target_compile_options(agentstream_options INTERFACE -Wno-gnu-statement-expression)
endif()
if(AGENTSTREAM_TSAN)
  target_compile_options(agentstream_options INTERFACE -fsanitize=thread -g1 -fno-omit-frame-pointer)
  target_link_options(agentstream_options INTERFACE -fsanitize=thread)
endif()

# agentstream_module(<name> SOURCES ... DEPS ...) declares the library agentstream_<name> with the
# alias agentstream::<name>, public headers under include/ and private ones under src/.
function(agentstream_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(agentstream_${name} STATIC ${ARG_SOURCES})
  add_library(agentstream::${name} ALIAS agentstream_${name})
  target_include_directories(agentstream_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                  PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(agentstream_${name} PUBLIC ${ARG_DEPS} PRIVATE agentstream::options
                                                                       ${ARG_PRIVATE_DEPS})
endfunction()
