mambogo_add_test(tst_models LABEL unit SOURCES tst_models.cpp LIBS mambogo::core)
mambogo_add_test(tst_kube_objects LABEL unit SOURCES tst_kube_objects.cpp LIBS mambogo::core)
