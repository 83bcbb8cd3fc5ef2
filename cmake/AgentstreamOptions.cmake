# Compiler flags shared by every agentstream target, applied through one interface target.
add_library(agentstream_options INTERFACE)
add_library(agentstream::options ALIAS agentstream_options)
target_compile_options(agentstream_options INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor
                                                     -Wpedantic
                                                     # g++ 12 warns on designated initialisers that
                                                     # leave members to their defaults (PR 96868)
                                                     -Wno-missing-field-initializers)
# Position-independent code (the libraries are) without the cost of symbol interposition:
# calls within the project stay direct and inlinable, as in the executables.
target_compile_options(agentstream_options INTERFACE -fno-semantic-interposition)
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
# The sanitizer trees build in batches (CMAKE_UNITY_BUILD, scripts/test.sh): a source's types
# in an anonymous namespace are then not the main file's, which g++ reports to no purpose.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(agentstream_options INTERFACE -Wno-subobject-linkage)
endif()
if(AGENTSTREAM_TSAN)
  target_compile_options(agentstream_options INTERFACE -fsanitize=thread -g1 -fno-omit-frame-pointer)
  target_link_options(agentstream_options INTERFACE -fsanitize=thread)
endif()

# agentstream_module(<name> SOURCES ... DEPS ...) declares the library agentstream_<name> with the
# alias agentstream::<name> (its exported name too), public headers under include/ and private
# ones under src/. Static archives unless AGENTSTREAM_SHARED; position-independent either way,
# so a plugin, a shared library or a Python extension can link the archives.
set(AGENTSTREAM_MODULES "" CACHE INTERNAL "the libraries agentstream_module declared")
function(agentstream_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(AGENTSTREAM_SHARED)
    add_library(agentstream_${name} SHARED ${ARG_SOURCES})
    # Installed, each library finds the others beside it (a prefix outside the loader's path).
    set_target_properties(agentstream_${name} PROPERTIES INSTALL_RPATH "\$ORIGIN")
  else()
    add_library(agentstream_${name} STATIC ${ARG_SOURCES})
  endif()
  add_library(agentstream::${name} ALIAS agentstream_${name})
  set_target_properties(agentstream_${name} PROPERTIES
    EXPORT_NAME ${name}
    OUTPUT_NAME agentstream_${name}
    POSITION_INDEPENDENT_CODE ON
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_compile_features(agentstream_${name} PUBLIC cxx_std_20)
  target_include_directories(agentstream_${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(agentstream_${name} PUBLIC ${ARG_DEPS} PRIVATE agentstream::options
                                                                       ${ARG_PRIVATE_DEPS})
  set(AGENTSTREAM_MODULES ${AGENTSTREAM_MODULES} ${name} CACHE INTERNAL
      "the libraries agentstream_module declared")
endfunction()
