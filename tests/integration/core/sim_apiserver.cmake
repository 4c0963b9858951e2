# KubeClient + Informer + ClusterModel against mambogo-cluster's real API server, in process.
if(TARGET mambogo::sim_apiserver)
  mambogo_add_test(tst_kube_client_sim LABEL integration SOURCES tst_kube_client_sim.cpp
    LIBS mambogo::core mambogo::sim_apiserver TIMEOUT 120)
endif()
