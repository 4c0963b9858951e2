# tst_manifests: packaging/kubernetes/ renders (kubectl kustomize), is accepted by kubectl
# (apply and create --dry-run=client, against a discovery-only API server the test serves), passes
# a schema check (python3-kubernetes models, when installed) and the cluster's conventions; and
# the embedded profile's services start and serve from exactly the environment the manifests
# give them. Needs /usr/bin/kubectl (Debian's kubernetes-client).
find_package(Qt6 6.4 REQUIRED COMPONENTS Network)
set(_manifest_binaries mambogo-gateway mambogo-product mambogo-cart mambogo-order mambogo-payment mambogo-token)
mambogo_add_test(tst_manifests LABEL integration SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_manifests.cpp
  LIBS Qt6::Core Qt6::Network yaml-cpp TIMEOUT 300)
target_compile_definitions(tst_manifests PRIVATE
  MAMBOGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
  MAMBOGO_GATEWAY_BINARY="$<TARGET_FILE:mambogo-gateway>"
  MAMBOGO_PRODUCT_BINARY="$<TARGET_FILE:mambogo-product>"
  MAMBOGO_CART_BINARY="$<TARGET_FILE:mambogo-cart>"
  MAMBOGO_ORDER_BINARY="$<TARGET_FILE:mambogo-order>"
  MAMBOGO_PAYMENT_BINARY="$<TARGET_FILE:mambogo-payment>"
  MAMBOGO_TOKEN_BINARY="$<TARGET_FILE:mambogo-token>")
add_dependencies(tst_manifests ${_manifest_binaries})
