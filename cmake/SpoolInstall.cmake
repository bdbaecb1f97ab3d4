# Install + export so that applications can find_package(spool CONFIG).
include(CMakePackageConfigHelpers)
set(SPOOL_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/spool)

install(TARGETS spool EXPORT spoolTargets)
install(EXPORT spoolTargets NAMESPACE spool:: DESTINATION ${SPOOL_CMAKE_INSTALL_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/spoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/spoolConfig.cmake
  INSTALL_DESTINATION ${SPOOL_CMAKE_INSTALL_DIR}
  PATH_VARS CMAKE_INSTALL_DATADIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/spoolConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/spoolConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/spoolConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/SpoolKernels.cmake
              ${CMAKE_CURRENT_LIST_DIR}/SpoolEmbedKernel.cmake
        DESTINATION ${SPOOL_CMAKE_INSTALL_DIR})
