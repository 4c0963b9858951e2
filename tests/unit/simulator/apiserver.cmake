# simulator/apiserver (and the defaulting/validation of simulator/objects it owns): the pure
# parts — patches, Tables, YAML manifests, query parsing, defaults and validation — and the
# request handler over a real Store, without sockets.
foreach(t patch table manifest query objects handler)
  mambogo_add_test(tst_apiserver_${t} LABEL unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_apiserver_${t}.cpp
    LIBS mambogo::sim_apiserver)
endforeach()
