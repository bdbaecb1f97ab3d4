# cmake -P script behind the kernels.source_hash_rebuild test. A kernel body
# goes through spool_add_kernels() in a project of its own; the script edits
# the body, an included file, a define and a comment, rebuilds after each
# edit, and runs the kernel through Spool (spool_hash_probe) against one
# autotune store:
#   1. a winner stored for the first source is used (no race);
#   2. after editing the body the hash changes, the next run races again
#      (it does not reuse the old winner) and the old rows are reported stale;
#   3. editing an included file or a define changes the hash too;
#   4. editing only a comment does not.
# -DSPOOL_SOURCE_DIR -DPROBE -DWORK_DIR -DCXX_COMPILER -DGENERATOR
file(REMOVE_RECURSE ${WORK_DIR})
set(body ${WORK_DIR}/body)
set(build ${WORK_DIR}/build)
set(store ${WORK_DIR}/autotune.sqlite)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
  set(ERR "${err}" PARENT_SCOPE)
endfunction()

function(write_body expr comment)
  file(WRITE ${body}/scale.comp.tmp "// ${comment}
#include \"bias.glsl\"
SPOOL_BUFFER(ProbeFloats, float);
struct SpoolArgs { ProbeFloats x; float a; uint n; };
void spool_body(SpoolArgs args, uint i, uint item) {
  if (i < args.n) args.x.v[i] = ${expr};
}
")
  file(COPY_FILE ${body}/scale.comp.tmp ${body}/scale.comp ONLY_IF_DIFFERENT)
endfunction()

function(write_bias expr)
  file(WRITE ${body}/include/bias.glsl "float probe_bias() { return ${expr}; }\n")
endfunction()

# Configures (with the define) and builds; sets HASH, and BATCHES to the
# probe's output of a run.
function(build_and_run defines)
  run(${CMAKE_COMMAND} -S ${SPOOL_SOURCE_DIR}/tests/kernels/hash_project -B ${build} -G ${GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
      -DSPOOL_SOURCE_DIR=${SPOOL_SOURCE_DIR} -DBODY_DIR=${body} "-DBODY_DEFINES=${defines}")
  run(${CMAKE_COMMAND} --build ${build})
  run(${PROBE} ${build}/probe_kernels.so ${store} run)
  if(NOT OUT MATCHES "hash=(sha256:[0-9a-f]+)\n")
    message(FATAL_ERROR "no sha256: source hash in the probe's output:\n${OUT}")
  endif()
  string(LENGTH "${CMAKE_MATCH_1}" len)
  if(NOT len EQUAL 71)
    message(FATAL_ERROR "'${CMAKE_MATCH_1}' is not sha256: + 64 hex digits")
  endif()
  set(HASH ${CMAKE_MATCH_1} PARENT_SCOPE)
  set(BATCHES "${OUT}" PARENT_SCOPE)
  set(STDERR "${ERR}" PARENT_SCOPE)
  message(STATUS "${OUT}${ERR}")
endfunction()

function(expect what text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: expected /${regex}/ in:\n${text}")
  endif()
endfunction()

file(MAKE_DIRECTORY ${body}/include)
write_body("args.x.v[i] * args.a + probe_bias()" "version 1")
write_bias("BIAS")

# 1. Version 1 with a winner stored for its hash: the winner runs, no race.
build_and_run("BIAS=0.0")
set(h1 ${HASH})
run(${PROBE} ${build}/probe_kernels.so ${store} seed wg=16)
build_and_run("BIAS=0.0")
expect("stored winner" "${BATCHES}" "batch 0 variant=wg=16 role= ok=1 x0=2\n")
expect("stored winner" "${BATCHES}" "batch 2 variant=wg=16 role= ok=1 x0=2\n")

# 2. The body changes: new hash, the old winner is not used, racing resumes.
write_body("args.x.v[i] * args.a + probe_bias() + 1.0" "version 1")
build_and_run("BIAS=0.0")
set(h2 ${HASH})
if(h2 STREQUAL h1)
  message(FATAL_ERROR "editing the body did not change the source hash (${h1})")
endif()
expect("edited body" "${BATCHES}" "batch 0 variant=wg=64 role=baseline ok=1 x0=3\n")
expect("edited body" "${BATCHES}" "batch 1 variant=wg=16 role=speculative ok=1 x0=3\n")
string(REPLACE "sha256:" "" h1_hex ${h1})
string(REPLACE "sha256:" "" h2_hex ${h2})
expect("stale report" "${STDERR}" "source hash sha256:${h1_hex} != sha256:${h2_hex} for scale")

# 3. An included file, then a define: each changes the hash.
write_bias("BIAS * 2.0")
build_and_run("BIAS=0.0")
set(h3 ${HASH})
if(h3 STREQUAL h2)
  message(FATAL_ERROR "editing an included file did not change the source hash (${h2})")
endif()
build_and_run("BIAS=1.0")
set(h4 ${HASH})
if(h4 STREQUAL h3)
  message(FATAL_ERROR "changing a define did not change the source hash (${h3})")
endif()
expect("define" "${BATCHES}" "batch 0 variant=wg=64 role=baseline ok=1 x0=5\n")

# 4. A comment only: the compiled source is the same, so is the hash.
write_body("args.x.v[i] * args.a + probe_bias() + 1.0" "version 2, same code")
build_and_run("BIAS=1.0")
if(NOT HASH STREQUAL h4)
  message(FATAL_ERROR "editing only a comment changed the source hash (${h4} -> ${HASH})")
endif()
message(STATUS "hashes: ${h1} ${h2} ${h3} ${h4}")
