#include "tui/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <clocale>
#include <csignal>
#include <exception>
#include <stdexcept>
#include <string>

#include "tui/key_handler.h"

// Last, and without its macros (timeout, erase, refresh, ... would clash with Qt's names).
#define NCURSES_NOMACROS
#include <curses.h>

namespace mambogo::tui {

namespace {

static_assert(sizeof(wchar_t) == sizeof(char32_t), "the canvas hands UTF-32 to the wide curses calls");

// Signal handlers can reach only globals. These are the process-wide state of the one
// Terminal: whether curses is active (so crash handlers know to restore it) and the write end
// of the self-pipe.
std::atomic<bool> g_cursesActive{false};
std::atomic<int> g_signalPipe{-1};
std::terminate_handler g_previousTerminate = nullptr;

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
constexpr int kFatalSignals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};

void restoreTerminal() {
  if (g_cursesActive.exchange(false)) endwin();
}

void forwardSignal(int signal) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signal);
  if (const int fd = g_signalPipe.load(); fd >= 0) [[maybe_unused]] auto n = ::write(fd, &byte, 1);
  errno = saved;
}

void fatalSignal(int signal) {
  restoreTerminal();
  // SA_RESETHAND put the default action back: the signal kills the process as it would have.
  std::raise(signal);
}

void onTerminate() {
  restoreTerminal();
  if (g_previousTerminate) g_previousTerminate();
  std::abort();
}

void install(int signal, void (*handler)(int), int flags) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = flags;
  sigaction(signal, &action, nullptr);
}

int mapKey(int code) {
  switch (code) {
    case KEY_UP: return Key::Up;
    case KEY_DOWN: return Key::Down;
    case KEY_LEFT: return Key::Left;
    case KEY_RIGHT: return Key::Right;
    case KEY_PPAGE: return Key::PageUp;
    case KEY_NPAGE: return Key::PageDown;
    case KEY_HOME: return Key::Home;
    case KEY_END: return Key::End;
    case KEY_ENTER: return Key::Enter;
    case KEY_BACKSPACE: return Key::Backspace;
    default: return 0;
  }
}

int mapChar(wint_t c) {
  switch (c) {
    case '\n': case '\r': return Key::Enter;
    case 27: return Key::Escape;
    case 127: case 8: return Key::Backspace;
    default: return static_cast<int>(c);
  }
}

enum ColourPair : short { PairGood = 1, PairWarn, PairBad, PairAccent, PairTitle, PairHeader, PairOverlay, PairHighlight };

}  // namespace

Terminal::Terminal(QObject* parent) : QObject(parent) {
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
    throw std::runtime_error("mambogo-tui needs a terminal on stdin and stdout");
  std::setlocale(LC_ALL, "");
  int pipe[2];
  if (::pipe2(pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("cannot create the signal pipe");
  if (!initscr()) throw std::runtime_error("cannot initialise the terminal (is TERM set?)");
  g_cursesActive = true;
  g_signalPipe = pipe[1];
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);
  leaveok(stdscr, TRUE);
  curs_set(0);
  m_colours = has_colors();
  if (m_colours) {
    start_color();
    use_default_colors();
    init_pair(PairGood, COLOR_GREEN, -1);
    init_pair(PairWarn, COLOR_YELLOW, -1);
    init_pair(PairBad, COLOR_RED, -1);
    init_pair(PairAccent, COLOR_CYAN, -1);
    init_pair(PairTitle, COLOR_WHITE, -1);
    init_pair(PairHeader, COLOR_BLACK, COLOR_CYAN);
    init_pair(PairOverlay, COLOR_WHITE, COLOR_BLUE);
    init_pair(PairHighlight, COLOR_BLACK, COLOR_WHITE);
  }
  for (int signal : kForwardedSignals) install(signal, forwardSignal, SA_RESTART);
  for (int signal : kFatalSignals) install(signal, fatalSignal, SA_RESETHAND | SA_NODEFER);
  g_previousTerminate = std::set_terminate(onTerminate);

  m_input = std::make_unique<QSocketNotifier>(STDIN_FILENO, QSocketNotifier::Read);
  connect(m_input.get(), &QSocketNotifier::activated, this, &Terminal::readKeys);
  m_signals = std::make_unique<QSocketNotifier>(pipe[0], QSocketNotifier::Read);
  connect(m_signals.get(), &QSocketNotifier::activated, this, &Terminal::readSignals);
}

Terminal::~Terminal() {
  for (int signal : kForwardedSignals) install(signal, SIG_DFL, 0);
  for (int signal : kFatalSignals) install(signal, SIG_DFL, 0);
  std::set_terminate(g_previousTerminate);
  const int writeEnd = g_signalPipe.exchange(-1);
  const int readEnd = static_cast<int>(m_signals->socket());
  m_signals.reset();
  m_input.reset();
  ::close(writeEnd);
  ::close(readEnd);
  restoreTerminal();
}

int Terminal::width() const { return COLS; }
int Terminal::height() const { return LINES; }

void Terminal::draw(const Canvas& canvas) {
  erase();
  const int rows = std::min(canvas.height(), LINES);
  for (int row = 0; row < rows; ++row) {
    for (const Canvas::Run& run : canvas.runs(row)) {
      if (run.col >= COLS) break;
      const int length = std::min(static_cast<int>(run.text.size()), COLS - run.col);
      attrset(attributes(run.style));
      mvaddnwstr(row, run.col, reinterpret_cast<const wchar_t*>(run.text.data()), length);
    }
  }
  attrset(A_NORMAL);
  refresh();
}

int Terminal::attributes(Style style) const {
  auto colour = [this](short pair, int fallback) { return m_colours ? static_cast<int>(COLOR_PAIR(pair)) : fallback; };
  switch (style) {
    case Style::Normal: return A_NORMAL;
    case Style::Dim: return A_DIM;
    case Style::Title: return A_BOLD | colour(PairTitle, 0);
    case Style::Header: return colour(PairHeader, A_REVERSE) | A_BOLD;
    case Style::Selected: return A_REVERSE;
    case Style::Good: return colour(PairGood, 0);
    case Style::Warn: return colour(PairWarn, A_BOLD);
    case Style::Bad: return colour(PairBad, A_BOLD) | (m_colours ? A_BOLD : 0);
    case Style::Accent: return colour(PairAccent, 0);
    case Style::Overlay: return colour(PairOverlay, 0);
    case Style::OverlayHighlight: return colour(PairHighlight, A_REVERSE) | A_BOLD;
  }
  return A_NORMAL;
}

void Terminal::readKeys() {
  int available = 0;
  if (ioctl(STDIN_FILENO, FIONREAD, &available) == 0 && available == 0) {
    // Readable with nothing to read: the terminal is gone (hang-up or end of input).
    m_input->setEnabled(false);
    Q_EMIT interrupted(SIGHUP);
    return;
  }
  wint_t c = 0;
  for (int kind = get_wch(&c); kind != ERR; kind = get_wch(&c)) {
    if (kind == KEY_CODE_YES) {
      if (c == KEY_RESIZE) applyNewSize();
      else if (const int key = mapKey(static_cast<int>(c))) Q_EMIT keyPressed(key);
    } else {
      Q_EMIT keyPressed(mapChar(c));
    }
  }
}

void Terminal::readSignals() {
  unsigned char signal = 0;
  while (::read(static_cast<int>(m_signals->socket()), &signal, 1) == 1) {
    if (signal == SIGWINCH) applyNewSize();
    else Q_EMIT interrupted(signal);
  }
}

void Terminal::applyNewSize() {
  winsize size = {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0 &&
      (size.ws_row != LINES || size.ws_col != COLS)) {
    resizeterm(size.ws_row, size.ws_col);
  }
  clearok(curscr, TRUE);  // repaint everything: the terminal may have reflowed the old frame
  Q_EMIT resized(COLS, LINES);
}

}  // namespace mambogo::tui
