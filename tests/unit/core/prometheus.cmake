mambogo_add_test(tst_prometheus_text LABEL unit SOURCES tst_prometheus_text.cpp LIBS mambogo::core)
target_compile_definitions(tst_prometheus_text PRIVATE MAMBOGO_CORE_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
mambogo_add_test(tst_time_series LABEL unit SOURCES tst_time_series.cpp LIBS mambogo::core)
