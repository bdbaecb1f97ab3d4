# cmake -P script driven by the install.consumer test.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

set(cfg ${BUILD_CONFIG})
if(NOT cfg)
  set(cfg Release)
endif()
run(${CMAKE_COMMAND} --install ${SPOOL_BINARY_DIR} --prefix ${prefix} --config ${cfg})
if(NOT EXISTS ${prefix}/lib/cmake/spool/spoolConfig.cmake)
  message(FATAL_ERROR "install did not produce lib/cmake/spool/spoolConfig.cmake")
endif()
if(NOT EXISTS ${prefix}/lib/cmake/spool/spoolConfigVersion.cmake)
  message(FATAL_ERROR "install did not produce spoolConfigVersion.cmake")
endif()
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${cfg}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    "-DCMAKE_EXE_LINKER_FLAGS=${SAN_LINK}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --config ${cfg})
run(${WORK_DIR}/build/spool_consumer)
message(STATUS "consumer said:\n${LAST_OUTPUT}")
if(NOT LAST_OUTPUT MATCHES "consumer: persistent")
  message(FATAL_ERROR "consumer output unexpected:\n${LAST_OUTPUT}")
endif()

# An application kernel through the installed spool_add_kernels(): the
# vk_interop sample, configured as a project of its own.
if(HAVE_VULKAN)
  run(${CMAKE_COMMAND} -S ${APP_SOURCE_DIR} -B ${WORK_DIR}/app
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${cfg}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      "-DCMAKE_EXE_LINKER_FLAGS=${SAN_LINK}")
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/app --config ${cfg})
  if(NOT EXISTS ${WORK_DIR}/app/spool_kernels/spool_vk_interop/axpb.persistent.spv)
    message(FATAL_ERROR "the installed spool_add_kernels() did not compile the persistent variant")
  endif()
  set(ENV{SPOOL_AUTOTUNE_DB} ${WORK_DIR}/app/autotune.db)
  run(${WORK_DIR}/app/spool_vk_interop --n 1000 --rounds 2)
  message(STATUS "vk_interop (installed package) said:\n${LAST_OUTPUT}")
  if(NOT LAST_OUTPUT MATCHES "all results match the CPU reference")
    message(FATAL_ERROR "vk_interop output unexpected:\n${LAST_OUTPUT}")
  endif()

  # A workload sample (CLI11, its own kernel, the shared sample headers),
  # built on its own against the installed package and run in every mode.
  run(${CMAKE_COMMAND} -S ${WORKLOAD_SOURCE_DIR} -B ${WORK_DIR}/workload
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${cfg}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      "-DCMAKE_EXE_LINKER_FLAGS=${SAN_LINK}")
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/workload --config ${cfg})
  set(ENV{SPOOL_AUTOTUNE_DB} ${WORK_DIR}/workload/autotune.db)
  run(${WORK_DIR}/workload/spool_bfs --graph grid --vertices 400 --item-size 4 --compare)
  message(STATUS "bfs (installed package) said:\n${LAST_OUTPUT}")
  if(NOT LAST_OUTPUT MATCHES "all modes match the CPU reference")
    message(FATAL_ERROR "bfs output unexpected:\n${LAST_OUTPUT}")
  endif()
endif()
