// Terminal: the thin ncurses layer of the terminal UI. It owns the curses screen for its
// lifetime, copies Canvases to it, and turns terminal input and signals into Qt signals on
// the event loop:
//   - keys (read without blocking when stdin is readable, through a QSocketNotifier) as
//     keyPressed(key) with the codes of key_handler.h;
//   - SIGWINCH as resized(width, height) after the curses screen took the new size;
//   - SIGINT, SIGTERM and SIGHUP, and the end of the input (the terminal went away), as
//     interrupted(signal) — the application decides how to end;
// through a self-pipe, so nothing but write(2) runs in those signal handlers.
//
// Never leaves the terminal corrupted: the destructor calls endwin(); a crash (SIGSEGV,
// SIGABRT, SIGBUS, SIGFPE, SIGILL) or std::terminate restores the terminal with endwin() and
// then dies of the original signal (core dumps and exit statuses stay truthful).
// Colours are used only when the terminal has them (otherwise bold / reverse / dim).
//
// Thread-safety: one instance per process (it owns the process's terminal and its signal
// dispositions), created and used on the thread running the event loop.
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <memory>

#include "tui/canvas.h"

namespace mambogo::tui {

class Terminal : public QObject {
  Q_OBJECT
 public:
  // Initialises curses on the controlling terminal (stdin/stdout). Throws std::runtime_error
  // when stdin or stdout is not a terminal or curses cannot start.
  explicit Terminal(QObject* parent = nullptr);
  ~Terminal() override;
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  int width() const;
  int height() const;
  bool hasColours() const { return m_colours; }

  // Shows `canvas` (of this terminal's size; a canvas of another size is clipped).
  void draw(const Canvas& canvas);

 Q_SIGNALS:
  void keyPressed(int key);
  void resized(int width, int height);
  void interrupted(int signal);

 private:
  void readKeys();
  void readSignals();
  void applyNewSize();
  int attributes(Style style) const;

  bool m_colours = false;
  std::unique_ptr<QSocketNotifier> m_input;
  std::unique_ptr<QSocketNotifier> m_signals;
};

}  // namespace mambogo::tui
