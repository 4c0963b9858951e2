mambogo_add_test(tst_sim_store LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_sim_store.cpp LIBS mambogo::sim_store)
mambogo_add_test(tst_sim_objects LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_sim_objects.cpp LIBS mambogo::sim_objects)
