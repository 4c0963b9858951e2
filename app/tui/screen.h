// The terminal UI's screen as a pure function: a ScreenSnapshot, the keyboard state (the
// cursor and the open dialog) and the status message in; a Canvas of the terminal's size out.
//
// Layout, top to bottom (sections shrink, then disappear, as the terminal gets smaller; the
// cluster table scrolls to keep the cursor visible):
//   header        mambogo · context and server · connection · local cluster · load
//   cluster table deployments/statefulsets with their pods (name, status, ready, restarts,
//                 age, CPU, memory, requests/s, p99), or the local cluster's launch progress,
//                 or how to connect
//   Autoscalers   one line per HPA: replicas current → desired (min–max), metric vs target
//   Services      per service: requests/s and p99 now and as sparklines, p50, error rate,
//                 breaker states
//   Faults        active chaos objects with the time they have left
//   Events        the newest events
//   status line   key hints and the last message
// A dialog (help, menu, prompt, confirmation, "stopping…") is drawn as a box over the middle.
// Columns that do not fit are dropped (least important first), text is cut with "…".
//
// Thread-safety: pure functions, any thread.
#pragma once

#include <QString>

#include "tui/canvas.h"
#include "tui/key_handler.h"
#include "tui/snapshot.h"

namespace mambogo::tui {

struct StatusMessage {
  QString text;
  bool error = false;
};

struct ScreenLayout {
  int tableScroll = 0;  // in: the previous first visible row; out: the one drawn
  int tableRows = 0;    // out: rows of the table visible (for PgUp/PgDn)
};

// Smallest size drawn; below it the screen says the terminal is too small.
constexpr int kMinWidth = 40;
constexpr int kMinHeight = 10;

Canvas renderScreen(const ScreenSnapshot& snapshot, const KeyHandler& keys, const StatusMessage& status, int width,
                    int height, ScreenLayout& layout);

// The number of seconds of history the Services sparklines show at `width` columns.
int sparklineSeconds(int width);

}  // namespace mambogo::tui
