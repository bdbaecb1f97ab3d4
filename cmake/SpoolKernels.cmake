# spool_add_kernels(<target> SOURCES <body.comp>... [NAMESPACE <c++::ns>]
#                   [INCLUDE_DIRS <dir>...] [DEFINES <NAME[=VALUE]>...]
#                   [WORKGROUP_SIZES <n>...])
#
# Compiles each kernel body with glslc, at build time, into Spool's two
# variants: one item per dispatch, and the persistent queue-polling kernel.
# Both are embedded in <target>, with the kernel's source hash: "sha256:" and
# the SHA-256 of the full source as compiled (the body, every file it
# includes, the DEFINES; see SpoolEmbedKernel.cmake). The autotune store keys
# its rows by that hash, so editing a body, an included file or a define
# makes the next run race again instead of reusing an old winner. Included
# files are tracked (glslc depfiles): editing one rebuilds its kernels.
#
# A body is a GLSL file that defines `struct SpoolArgs {...}` and
# `void spool_body(SpoolArgs args, uint i, uint item)` (see spool_abi.glsl);
# the kernel's name is the file's stem, a C identifier.
#
# DEFINES: preprocessor definitions for every body (glslc -D).
# WORKGROUP_SIZES: the workgroup sizes the autotuner races for these kernels
# (each 1..65536), like the built-ins race SPOOL_AUTOTUNE_WG. Without it the
# kernels run at the size they are loaded with and never race.
#
# The target gets a generated header <ns with :: as _>.hpp (default
# spool_kernels.hpp) declaring, in namespace <ns>:
#   const spool::EmbeddedKernel& <name>();   // one per body
#   std::span<const spool::EmbeddedKernel> all();
# Load one with spool::Device::load(<ns>::<name>()). The target must link
# spool::spool (or spool::runtime) for spool/embedded_kernel.hpp.
#
# Needs glslc (Debian: glslc). SPOOL_GLSL_INCLUDE_DIR names the directory of
# spool_abi.glsl and the two wrappers, SPOOL_RING_ABI_INCLUDE_DIR the include
# directory holding spool/backend/ring_abi.h; spoolConfig.cmake sets both.
set(_SPOOL_KERNELS_DIR ${CMAKE_CURRENT_LIST_DIR})

function(spool_add_kernels target)
  cmake_parse_arguments(K "" "NAMESPACE" "SOURCES;INCLUDE_DIRS;DEFINES;WORKGROUP_SIZES" ${ARGN})
  if(NOT TARGET ${target})
    message(FATAL_ERROR "spool_add_kernels: '${target}' is not a target")
  endif()
  if(NOT K_SOURCES)
    message(FATAL_ERROR "spool_add_kernels(${target}): no SOURCES")
  endif()
  if(NOT K_NAMESPACE)
    set(K_NAMESPACE spool_kernels)
  endif()
  if(NOT K_NAMESPACE MATCHES "^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$")
    message(FATAL_ERROR "spool_add_kernels(${target}): NAMESPACE '${K_NAMESPACE}' is not a C++ namespace")
  endif()
  if(NOT SPOOL_GLSL_INCLUDE_DIR OR NOT EXISTS ${SPOOL_GLSL_INCLUDE_DIR}/spool_abi.glsl)
    message(FATAL_ERROR "spool_add_kernels: SPOOL_GLSL_INCLUDE_DIR ('${SPOOL_GLSL_INCLUDE_DIR}') has no spool_abi.glsl")
  endif()
  if(TARGET Vulkan::glslc)
    set(_glslc Vulkan::glslc)
  else()
    find_program(SPOOL_GLSLC glslc)
    if(NOT SPOOL_GLSLC)
      message(FATAL_ERROR "spool_add_kernels: glslc not found (Debian: apt-get install glslc)")
    endif()
    set(_glslc ${SPOOL_GLSLC})
  endif()

  set(_wgs "")
  foreach(wg ${K_WORKGROUP_SIZES})
    if(NOT wg MATCHES "^[1-9][0-9]*$" OR wg GREATER 65536)
      message(FATAL_ERROR "spool_add_kernels(${target}): WORKGROUP_SIZES '${wg}' is not a size in 1..65536")
    endif()
    if(NOT wg IN_LIST _wgs)
      list(APPEND _wgs ${wg})
    endif()
  endforeach()
  set(_defs_flags "")
  foreach(d ${K_DEFINES})
    if(NOT d MATCHES "^[A-Za-z_][A-Za-z0-9_]*(=.*)?$")
      message(FATAL_ERROR "spool_add_kernels(${target}): DEFINES '${d}' is not NAME or NAME=VALUE")
    endif()
    list(APPEND _defs_flags -D${d})
  endforeach()

  string(REPLACE "::" "_" _header_stem ${K_NAMESPACE})
  set(_gen ${CMAKE_CURRENT_BINARY_DIR}/spool_kernels/${target})
  set(_abi ${SPOOL_GLSL_INCLUDE_DIR}/spool_abi.glsl ${SPOOL_GLSL_INCLUDE_DIR}/wrap_launch.glsl
           ${SPOOL_GLSL_INCLUDE_DIR}/wrap_persistent.glsl)
  set(_inc -I ${SPOOL_GLSL_INCLUDE_DIR} -I ${SPOOL_RING_ABI_INCLUDE_DIR})
  list(APPEND _abi ${SPOOL_RING_ABI_INCLUDE_DIR}/spool/backend/ring_abi.h)
  foreach(d ${K_INCLUDE_DIRS})
    get_filename_component(d ${d} ABSOLUTE)
    list(APPEND _inc -I ${d})
  endforeach()
  # The declared workgroup sizes, shared by every kernel of the call.
  if(_wgs)
    list(LENGTH _wgs _n_wgs)
    string(REPLACE ";" "u, " _wg_list "${_wgs}")
    set(_wg_decl "const std::uint32_t workgroup_sizes[${_n_wgs}] = {${_wg_list}u};\n")
    set(_wg_span "{spool_embedded::workgroup_sizes, ${_n_wgs}}")
  else()
    set(_wg_decl "")
    set(_wg_span "{}")
  endif()
  set(_embedded "")
  set(_decls "")
  set(_defs "")
  set(_entries "")
  set(_names "")
  foreach(src ${K_SOURCES})
    get_filename_component(src ${src} ABSOLUTE)
    get_filename_component(k ${src} NAME_WE)
    get_filename_component(src_dir ${src} DIRECTORY)
    get_filename_component(src_name ${src} NAME)
    if(NOT k MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
      message(FATAL_ERROR "spool_add_kernels(${target}): kernel name '${k}' (from ${src}) is not a C identifier")
    endif()
    if(k IN_LIST _names)
      message(FATAL_ERROR "spool_add_kernels(${target}): two bodies are named '${k}'")
    endif()
    list(APPEND _names ${k})
    foreach(v launch persistent)
      file(WRITE ${_gen}/${k}.${v}.comp.tmp
        "#version 460\n// Generated by spool_add_kernels() for kernel '${k}'. Do not edit.\n"
        "#include \"spool_abi.glsl\"\n#include \"${src_name}\"\n#include \"wrap_${v}.glsl\"\n")
      file(COPY_FILE ${_gen}/${k}.${v}.comp.tmp ${_gen}/${k}.${v}.comp ONLY_IF_DIFFERENT)
      file(REMOVE ${_gen}/${k}.${v}.comp.tmp)
      # The SPIR-V, the preprocessed source it was compiled from (hashed by
      # SpoolEmbedKernel.cmake) and a depfile naming every included file.
      set(_flags --target-env=vulkan1.2 -fshader-stage=compute -I ${src_dir} ${_inc} ${_defs_flags})
      add_custom_command(OUTPUT ${_gen}/${k}.${v}.spv ${_gen}/${k}.${v}.i
        COMMAND ${_glslc} ${_flags} -MD -MF ${_gen}/${k}.${v}.d
                ${_gen}/${k}.${v}.comp -o ${_gen}/${k}.${v}.spv
        COMMAND ${_glslc} ${_flags} -E ${_gen}/${k}.${v}.comp -o ${_gen}/${k}.${v}.i
        DEPENDS ${_gen}/${k}.${v}.comp ${src} ${_abi}
        DEPFILE ${_gen}/${k}.${v}.d
        COMMENT "glslc ${k} (${v})" VERBATIM)
    endforeach()
    add_custom_command(OUTPUT ${_gen}/${k}_embedded.cpp
      COMMAND ${CMAKE_COMMAND} -DNAME=${k} "-DNAMESPACE=${K_NAMESPACE}::spool_embedded"
              -DLAUNCH=${_gen}/${k}.launch.spv -DPERSISTENT=${_gen}/${k}.persistent.spv
              -DLAUNCH_SOURCE=${_gen}/${k}.launch.i -DPERSISTENT_SOURCE=${_gen}/${k}.persistent.i
              -DOUT=${_gen}/${k}_embedded.cpp
              -P ${_SPOOL_KERNELS_DIR}/SpoolEmbedKernel.cmake
      DEPENDS ${_gen}/${k}.launch.spv ${_gen}/${k}.persistent.spv
              ${_gen}/${k}.launch.i ${_gen}/${k}.persistent.i
              ${_SPOOL_KERNELS_DIR}/SpoolEmbedKernel.cmake
      COMMENT "embed ${k}" VERBATIM)
    list(APPEND _embedded ${_gen}/${k}_embedded.cpp)
    string(APPEND _decls
      "extern const std::uint32_t ${k}_launch[]; extern const std::uint32_t ${k}_launch_words;\n"
      "extern const std::uint32_t ${k}_persistent[]; extern const std::uint32_t ${k}_persistent_words;\n"
      "extern const char ${k}_hash[];\n")
    string(APPEND _defs "const spool::EmbeddedKernel& ${k}();\n")
    string(APPEND _entries
      "    {\"${k}\", spool_embedded::${k}_hash, {spool_embedded::${k}_launch, spool_embedded::${k}_launch_words},\n"
      "     {spool_embedded::${k}_persistent, spool_embedded::${k}_persistent_words}, ${_wg_span}},\n")
  endforeach()

  string(CONCAT _hpp "// Generated by spool_add_kernels(${target}). Do not edit.\n#pragma once\n\n#include <span>\n\n"
           "#include \"spool/embedded_kernel.hpp\"\n\nnamespace ${K_NAMESPACE} {\n\n${_defs}"
           "// Every kernel above, in SOURCES order.\nstd::span<const spool::EmbeddedKernel> all();\n\n}  // namespace ${K_NAMESPACE}\n")
  string(CONCAT _cpp "// Generated by spool_add_kernels(${target}). Do not edit.\n#include \"${_header_stem}.hpp\"\n\n#include <cstdint>\n\n"
           "namespace ${K_NAMESPACE} {\nnamespace spool_embedded {\n${_decls}${_wg_decl}}  // namespace spool_embedded\n\n"
           "// A function-local table: safe to use from other static initialisers.\n"
           "std::span<const spool::EmbeddedKernel> all() {\n  static const spool::EmbeddedKernel table[] = {\n${_entries}  };\n  return table;\n}\n\n")
  set(_i 0)
  foreach(k ${_names})
    string(APPEND _cpp "const spool::EmbeddedKernel& ${k}() { return all()[${_i}]; }\n")
    math(EXPR _i "${_i} + 1")
  endforeach()
  string(APPEND _cpp "\n}  // namespace ${K_NAMESPACE}\n")
  foreach(f hpp cpp)
    file(WRITE ${_gen}/${_header_stem}.${f}.tmp "${_${f}}")
    file(COPY_FILE ${_gen}/${_header_stem}.${f}.tmp ${_gen}/${_header_stem}.${f} ONLY_IF_DIFFERENT)
    file(REMOVE ${_gen}/${_header_stem}.${f}.tmp)
  endforeach()
  target_sources(${target} PRIVATE ${_embedded} ${_gen}/${_header_stem}.cpp ${_gen}/${_header_stem}.hpp)
  target_include_directories(${target} PRIVATE ${_gen})
endfunction()
