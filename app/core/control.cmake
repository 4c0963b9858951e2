# mambogo::console_control — the console's control pieces (no widgets): the cluster session
# (client, informers, collector, models and fault controller wired for one connection), the
# load controller (load engine on its own thread), the fault controller (Chaos Mesh resources)
# and the local cluster launcher (mambogo-cluster as a child process). Included from app/CMakeLists.txt
# after core/.
add_library(mambogo_console_control STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cluster_launcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cluster_session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fault_controller.cpp
  ${CMAKE_CURRENT_LIST_DIR}/load_controller.cpp
)
add_library(mambogo::console_control ALIAS mambogo_console_control)
set_target_properties(mambogo_console_control PROPERTIES AUTOMOC ON)
target_link_libraries(mambogo_console_control PUBLIC mambogo::core mambogo::load Qt6::Core Qt6::Network)
# Where the seed plans and a freshly built mambogo-cluster are found when running from the
# build tree (installed programs look beside themselves first).
target_compile_definitions(mambogo_console_control PRIVATE
  MAMBOGO_SOURCE_DIR="${PROJECT_SOURCE_DIR}" MAMBOGO_BUILD_DIR="${PROJECT_BINARY_DIR}")
