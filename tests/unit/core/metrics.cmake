mambogo_add_test(tst_metrics_collector LABEL unit SOURCES tst_metrics_collector.cpp LIBS mambogo::core)
