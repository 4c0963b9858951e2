# The service proxy and the chaos controllers over real loopback sockets (127.0.0.0/8 only).
mambogo_add_test(tst_netproxy LABEL integration SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_netproxy.cpp
                 LIBS mambogo::sim_netproxy TIMEOUT 240)
