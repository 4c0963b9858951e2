# The Qt console's main window (app/gui) under QT_QPA_PLATFORM=offscreen: tst_gui_mainwindow
# and tst_gui_connected (an API server stand-in on loopback) need nothing but loopback
# sockets; tst_gui_local_cluster drives the whole drill against a
# real mambogo-cluster (skipped when it has not been built). Screenshots go to
# <build>/test-artifacts/.
if(TARGET mambogo_gui)
  foreach(test tst_gui_mainwindow tst_gui_connected tst_gui_local_cluster)
    set(timeout 120)
    if(test STREQUAL tst_gui_local_cluster)
      set(timeout 600)
    endif()
    mambogo_add_test(${test} LABEL integration SOURCES ${test}.cpp LIBS mambogo::gui TIMEOUT ${timeout})
    # The shared test header is built without the Widgets/Charts defines these tests need.
    set_target_properties(${test} PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)
    target_include_directories(${test} PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit/core)
    target_compile_definitions(${test} PRIVATE MAMBOGO_ARTIFACT_DIR="${CMAKE_BINARY_DIR}/test-artifacts")
  endforeach()
  # Its one test function waits on real timers (cluster start, the breaker's 60 s open state):
  # let ctest's 600 s decide, not Qt Test's 300 s watchdog (which fired on a busy machine).
  set_property(TEST tst_gui_local_cluster APPEND PROPERTY ENVIRONMENT "QTEST_FUNCTION_TIMEOUT=570000")
  target_compile_definitions(tst_gui_connected PRIVATE
    MAMBOGO_FAKE_CLUSTER="${PROJECT_SOURCE_DIR}/tests/unit/core/fake_mambogo_cluster.sh")
endif()
