# simulator/pods: the pure parts of the kubelet (environment, image map, probe bookkeeping,
# chaos target counts).
mambogo_add_test(tst_pods_env LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_env.cpp LIBS mambogo::sim_pods)
mambogo_add_test(tst_pods_probe LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_pods_probe.cpp LIBS mambogo::sim_pods)
