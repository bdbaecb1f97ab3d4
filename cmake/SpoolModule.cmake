# spool_module(<name> [STATIC|INTERFACE] SOURCES ... ) helpers shared by modules.
# Creates target spool_<name>, alias spool::<name>, export name <name>,
# public include dir <module>/include, private warnings, installed + exported.
function(spool_module name)
  cmake_parse_arguments(M "INTERFACE" "" "SOURCES" ${ARGN})
  set(tgt spool_${name})
  if(M_INTERFACE)
    add_library(${tgt} INTERFACE)
    target_include_directories(${tgt} INTERFACE
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_compile_features(${tgt} INTERFACE cxx_std_20)
  else()
    add_library(${tgt} STATIC ${M_SOURCES})
    target_include_directories(${tgt} PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_compile_features(${tgt} PUBLIC cxx_std_20)
    target_link_libraries(${tgt} PRIVATE $<BUILD_INTERFACE:spool_warnings>)
  endif()
  add_library(spool::${name} ALIAS ${tgt})
  set_target_properties(${tgt} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME spool_${name})
  install(TARGETS ${tgt} EXPORT spoolTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
