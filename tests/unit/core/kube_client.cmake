mambogo_add_test(tst_kube_protocol LABEL unit SOURCES tst_kube_protocol.cpp LIBS mambogo::core)
