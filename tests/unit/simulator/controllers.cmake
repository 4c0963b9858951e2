# Controllers of mambogo-cluster: the pure HPA algorithm, the Deployment arithmetic, pod ranking.
mambogo_add_test(tst_hpa_algorithm LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_hpa_algorithm.cpp
  LIBS mambogo::sim_controllers)
mambogo_add_test(tst_controllers_rolling LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_controllers_rolling.cpp
  LIBS mambogo::sim_controllers)
mambogo_add_test(tst_controllers_pods LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_controllers_pods.cpp
  LIBS mambogo::sim_controllers)
