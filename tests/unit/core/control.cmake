# The console's control pieces (app/core/control.cmake): load, fault and local cluster
# controllers, each against real sockets or real child processes on this machine.
mambogo_add_test(tst_load_controller LABEL unit SOURCES tst_load_controller.cpp control_http_server.h
  LIBS mambogo::console_control)
target_compile_definitions(tst_load_controller PRIVATE
  MAMBOGO_SCENARIO_DIR="${PROJECT_SOURCE_DIR}/resources/scenarios")
mambogo_add_test(tst_fault_controller LABEL unit SOURCES tst_fault_controller.cpp control_http_server.h
  LIBS mambogo::console_control)
mambogo_add_test(tst_cluster_launcher LABEL unit SOURCES tst_cluster_launcher.cpp LIBS mambogo::console_control)
target_compile_definitions(tst_cluster_launcher PRIVATE
  MAMBOGO_FAKE_CLUSTER="${CMAKE_CURRENT_SOURCE_DIR}/fake_mambogo_cluster.sh")
