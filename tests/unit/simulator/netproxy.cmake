mambogo_add_test(tst_netproxy_rules LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_netproxy_rules.cpp
                 LIBS mambogo::sim_netproxy)
