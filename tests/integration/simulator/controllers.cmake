# simulator/controllers over a real Store, the test playing kubelet (tst_controllers_fixture.h).
mambogo_add_test(tst_controllers_workloads LABEL integration TIMEOUT 300
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_controllers_workloads.cpp
  LIBS mambogo::sim_controllers)
mambogo_add_test(tst_controllers_hpa LABEL integration TIMEOUT 300
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_controllers_hpa.cpp
  LIBS mambogo::sim_controllers)
mambogo_add_test(tst_controllers_statefulset LABEL integration TIMEOUT 300
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_controllers_statefulset.cpp
  LIBS mambogo::sim_controllers)
