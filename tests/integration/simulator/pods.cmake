# simulator/pods: the kubelet against real processes and sockets.
mambogo_add_test(tst_pods_kubelet LABEL integration TIMEOUT 180
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_kubelet.cpp LIBS mambogo::sim_pods mambogo::test_support)
mambogo_add_test(tst_pods_chaos LABEL integration TIMEOUT 180
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_chaos.cpp LIBS mambogo::sim_pods mambogo::test_support)
mambogo_add_test(tst_pods_images LABEL integration TIMEOUT 180
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_images.cpp LIBS mambogo::sim_pods mambogo::test_support)
mambogo_add_test(tst_pods_init LABEL integration TIMEOUT 180
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_init.cpp LIBS mambogo::sim_pods mambogo::sim_apiserver mambogo::test_support)
