# mambogo-tui in a real pseudo-terminal (a private tmux server): the screen it draws, resizing,
# keys, quitting with the terminal restored; and, when mambogo-cluster is built, launching the
# local cluster (embedded profile), pods Running on screen, figures moving under load, quit
# stopping the cluster.
if(TARGET mambogo-tui)
  mambogo_add_test(tst_tui_tmux LABEL integration SOURCES tst_tui_tmux.cpp TIMEOUT 900)
  target_compile_definitions(tst_tui_tmux PRIVATE MAMBOGO_TUI="$<TARGET_FILE:mambogo-tui>")
  add_dependencies(tst_tui_tmux mambogo-tui)
endif()
