# mambogo-cluster as a whole, driven by kubectl and the Python Kubernetes client.
mambogo_add_test(tst_cluster_local LABEL integration TIMEOUT 600
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_cluster_local.cpp
  LIBS mambogo::test_support)
add_dependencies(tst_cluster_local mambogo-cluster)
# The full profile: Redis, PostgreSQL primary + streaming replica, an order end to end.
mambogo_add_test(tst_cluster_full LABEL integration TIMEOUT 600
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_cluster_full.cpp
  LIBS mambogo::test_support)
add_dependencies(tst_cluster_full mambogo-cluster)
