mambogo_add_test(tst_kubeconfig LABEL unit SOURCES tst_kubeconfig.cpp LIBS mambogo::core)
target_compile_definitions(tst_kubeconfig PRIVATE MAMBOGO_CORE_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data")
