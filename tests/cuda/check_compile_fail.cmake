# cmake -P script of the ctest cuda_app_kernel_compile_errors: compiles
# app_kernel_compile_fail.cu once per case with the nvcc Spool was built with.
# Case 0 (a correct declaration) must compile; every other case must fail
# with its own compile-time message.
#   -DNVCC=... -DCCBIN=... -DINCLUDE=dir[,dir...] -DSOURCE=... -DWORK=...
set(expect
  "1|declare every member of the argument struct with SPOOL_CUDA_ARG"
  "2|declare the members in the order the struct declares them"
  "3|a member is declared twice"
  "4|SPOOL_CUDA_ARG names a member of another struct"
  "5|an argument member must be a pointer to device memory"
  "6|the argument struct must be an aggregate"
  "7|the kernel name is empty")
file(MAKE_DIRECTORY ${WORK})
string(REPLACE "," ";" include_dirs "${INCLUDE}")
set(include_flags "")
foreach(d ${include_dirs})
  list(APPEND include_flags -I${d})
endforeach()

function(compile case out_rc out_text)
  execute_process(
    COMMAND ${NVCC} -ccbin ${CCBIN} -std=c++17 -arch=sm_80 --Werror=all-warnings -DSPOOL_BAD_CASE=${case}
            ${include_flags} -c ${SOURCE} -o ${WORK}/case${case}.o
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${out}${err}" PARENT_SCOPE)
endfunction()

compile(0 rc text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the correct declaration (case 0) does not compile:\n${text}")
endif()
message(STATUS "case 0 (correct declaration): compiles")
foreach(e ${expect})
  string(REPLACE "|" ";" parts "${e}")
  list(GET parts 0 case)
  list(GET parts 1 msg)
  compile(${case} rc text)
  if(rc EQUAL 0)
    message(FATAL_ERROR "case ${case} compiled; expected a compile error: ${msg}")
  endif()
  string(FIND "${text}" "${msg}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "case ${case} failed without the expected message '${msg}':\n${text}")
  endif()
  message(STATUS "case ${case}: rejected: ${msg}")
endforeach()
