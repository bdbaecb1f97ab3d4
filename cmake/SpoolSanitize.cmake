# SPOOL_SANITIZE=address,undefined | thread. Sanitizers must instrument every
# translation unit of the process (library, tests, samples) or they report
# false positives, so unlike warnings they are applied directory-wide.
if(SPOOL_SANITIZE)
  if(SPOOL_SANITIZE MATCHES "thread" AND SPOOL_SANITIZE MATCHES "address")
    message(FATAL_ERROR "SPOOL_SANITIZE: thread cannot be combined with address")
  endif()
  set(_spool_san_flags -fsanitize=${SPOOL_SANITIZE} -fno-omit-frame-pointer -g)
  if(SPOOL_SANITIZE MATCHES "undefined")
    list(APPEND _spool_san_flags -fno-sanitize-recover=undefined)
  endif()
  # Quoted: an unquoted list inside the generator expression is split before
  # the expression is evaluated, which breaks it.
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_spool_san_flags}>")
  add_link_options(-fsanitize=${SPOOL_SANITIZE})
  message(STATUS "spool: sanitizers enabled: ${SPOOL_SANITIZE}")
endif()

# Fuzzing (preset fuzz): every translation unit gets libFuzzer's coverage
# instrumentation; only the fuzz targets link the fuzzer's main.
if(SPOOL_BUILD_FUZZ)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>")
  message(STATUS "spool: libFuzzer coverage instrumentation enabled")
endif()
