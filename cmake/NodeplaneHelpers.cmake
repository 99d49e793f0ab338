# Warnings as errors on our own code only (generated proto code gets np_relaxed_warnings).
function(np_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
                                           -march=${NP_MARCH})
endfunction()

# Dataplane code: no exceptions, no RTTI needs (DESIGN §3).
function(np_dataplane_target target)
  np_strict_warnings(${target})
  target_compile_options(${target} PRIVATE -fno-exceptions)
endfunction()

# np_add_test(NAME name SOURCES a.cc ... DEPS lib ... LABELS unit|pcap|e2e)
# GoogleTest binaries; each test case is registered with ctest under LABELS.
function(np_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  np_strict_warnings(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${T_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  gtest_discover_tests(${T_NAME} PROPERTIES LABELS "${T_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
