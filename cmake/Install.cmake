# Installs the libraries, their headers and a CMake package: after `cmake --install build
# --prefix P`, a project finds it with
#   find_package(agentstream CONFIG REQUIRED)        # CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE agentstream::agentstream)   # or agentstream::<module>
# (examples/ is such a project; scripts/test.sh builds and runs it against an installed copy).
include(CMakePackageConfigHelpers)

# agentstream::agentstream: every module.
add_library(agentstream_all INTERFACE)
set_target_properties(agentstream_all PROPERTIES EXPORT_NAME agentstream)
foreach(module IN LISTS AGENTSTREAM_MODULES)
  target_link_libraries(agentstream_all INTERFACE agentstream_${module})
endforeach()
add_library(agentstream::agentstream ALIAS agentstream_all)

set(install_targets agentstream_all agentstream_options)
foreach(module IN LISTS AGENTSTREAM_MODULES)
  list(APPEND install_targets agentstream_${module})
endforeach()
install(TARGETS ${install_targets} EXPORT agentstreamTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/agentstream
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/agentstream/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/agentstream)
if(TARGET agentstream)
  install(TARGETS agentstream RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/agentstream)
install(EXPORT agentstreamTargets NAMESPACE agentstream:: DESTINATION ${config_dir}
        FILE agentstreamTargets.cmake)
set(AGENTSTREAM_INSTALLED_SHARED ${AGENTSTREAM_SHARED})
set(AGENTSTREAM_INSTALLED_HTTP ${AGENTSTREAM_HTTP})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/agentstreamConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/agentstreamConfig.cmake
                              INSTALL_DESTINATION ${config_dir})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/agentstreamConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/agentstreamConfig.cmake
              ${PROJECT_BINARY_DIR}/agentstreamConfigVersion.cmake
        DESTINATION ${config_dir})
