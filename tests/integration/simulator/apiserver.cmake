# simulator/apiserver over real sockets (HTTPS with generated TLS and a bearer token), driven
# by kubectl and the official Python client.
mambogo_add_test(tst_apiserver_clients LABEL integration TIMEOUT 600
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_apiserver_clients.cpp
  LIBS mambogo::sim_apiserver Qt6::Core)
