# Runs PROG with an unknown option; passes when it exits with status 2.
execute_process(COMMAND ${PROG} --no-such-option RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "${PROG} --no-such-option exited with '${rc}', expected 2\n${out}${err}")
endif()
