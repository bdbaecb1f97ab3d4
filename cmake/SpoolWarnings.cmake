# Warnings live on an INTERFACE target that every Spool target links privately
# (BUILD_INTERFACE only), never in global flags, so consumers are not affected.
add_library(spool_warnings INTERFACE)
target_compile_options(spool_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wno-missing-field-initializers>
  $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${SPOOL_WERROR}>>:-Werror>)
