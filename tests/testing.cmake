# mambogo_add_test(<name> LABEL unit|integration|e2e|gui|bench SOURCES ... [LIBS ...] [TIMEOUT s] [ARGS ...])
#
# Every test is a Qt Test executable registered in CTest under one label. The `unit-tests`
# target builds just the unit label, which is what the asan preset compiles.
add_custom_target(unit-tests)

# One precompiled header for every test: Qt Test, nlohmann/json and the standard headers the
# tests share are parsed once per build instead of once per test (they were most of the test
# compile time). GCC refuses a header built with other macro definitions (-Winvalid-pch, an error
# under -Werror), so the header and every test link the same Qt modules: Test and Network, which
# most tests' libraries bring anyway. Only the GUI tests (Widgets) parse their headers themselves.
find_package(Qt6 6.4 REQUIRED COMPONENTS Test Network)
add_library(mambogo_test_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/support/pch.cpp)
target_link_libraries(mambogo_test_pch PUBLIC Qt6::Test Qt6::Network nlohmann_json::nlohmann_json)
# Qt Test defines QT_TESTCASE_BUILDDIR and _SOURCEDIR per target (only QFINDTESTDATA uses it, and no test
# does); a per-target value would make the shared header invalid for every other test.
target_compile_options(mambogo_test_pch PRIVATE -UQT_TESTCASE_BUILDDIR -UQT_TESTCASE_SOURCEDIR)
target_precompile_headers(mambogo_test_pch PRIVATE
  <QtTest> <nlohmann/json.hpp> <chrono> <functional> <map> <memory> <optional> <string> <thread> <vector>)

function(mambogo_add_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS;ARGS" ${ARGN})
  if(NOT T_LABEL MATCHES "^(unit|integration|e2e|gui|bench)$")
    message(FATAL_ERROR "mambogo_add_test(${name}): LABEL must be unit, integration, e2e, gui or bench")
  endif()
  add_executable(${name} ${T_SOURCES})
  set_target_properties(${name} PROPERTIES AUTOMOC ON)
  target_link_libraries(${name} PRIVATE Qt6::Test Qt6::Network nlohmann_json::nlohmann_json ${T_LIBS})
  target_compile_options(${name} PRIVATE -UQT_TESTCASE_BUILDDIR -UQT_TESTCASE_SOURCEDIR)
  target_precompile_headers(${name} REUSE_FROM mambogo_test_pch)
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
