# Warnings live on an INTERFACE target that every Spool target links privately
# (BUILD_INTERFACE only), never in global flags, so consumers are not affected.
add_library(spool_warnings INTERFACE)
target_compile_options(spool_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion -Wno-missing-field-initializers>
  $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${SPOOL_WERROR}>>:-Werror>)
# GCC 12 reports -Wrestrict false positives inside std::string's operator+ at
# -O2/-O3 (GCC PR105329); they are not in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(spool_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
