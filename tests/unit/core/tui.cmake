# The terminal UI's pure layer (app/tui: mambogo::tui_view): canvas and sparkline maths, the
# screen drawn from model snapshots at several terminal sizes, the key state machine.
# No terminal involved; the tmux test in tests/integration/core/tui.cmake drives the program.
if(TARGET mambogo_tui_view)
  mambogo_add_test(tst_tui_canvas LABEL unit SOURCES tst_tui_canvas.cpp LIBS mambogo::tui_view)
  mambogo_add_test(tst_tui_screen LABEL unit SOURCES tst_tui_screen.cpp LIBS mambogo::tui_view)
  mambogo_add_test(tst_tui_keys LABEL unit SOURCES tst_tui_keys.cpp LIBS mambogo::tui_view)
endif()
