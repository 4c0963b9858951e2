# mambogo_add_test(<name> LABEL unit|integration|e2e|gui|bench SOURCES ... [LIBS ...] [TIMEOUT s] [ARGS ...])
#
# Every test is a Qt Test executable registered in CTest under one label. The `unit-tests`
# target builds just the unit label, which is what the asan preset compiles.
add_custom_target(unit-tests)

function(mambogo_add_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS;ARGS" ${ARGN})
  if(NOT T_LABEL MATCHES "^(unit|integration|e2e|gui|bench)$")
    message(FATAL_ERROR "mambogo_add_test(${name}): LABEL must be unit, integration, e2e, gui or bench")
  endif()
  add_executable(${name} ${T_SOURCES})
  set_target_properties(${name} PROPERTIES AUTOMOC ON)
  target_link_libraries(${name} PRIVATE Qt6::Test ${T_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;MAMBOGO_BUILD_DIR=${CMAKE_BINARY_DIR}")
  if(T_LABEL STREQUAL "unit")
    add_dependencies(unit-tests ${name})
  endif()
endfunction()
