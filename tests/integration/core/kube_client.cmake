# KubeClient + KubeWatch + Informer against a real HTTP/1.1 server on a loopback socket (a
# scripted QTcpServer in the test: lists, chunked watch streams, drops, 410 Expired).
mambogo_add_test(tst_kube_client_http LABEL integration SOURCES tst_kube_client_http.cpp LIBS mambogo::core TIMEOUT 120)
