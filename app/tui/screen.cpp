#include "tui/screen.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/cluster_model.h"

namespace mambogo::tui {

namespace {

const QChar kHorizontal(0x2500);  // ─

// ---- small pieces ------------------------------------------------------------------------

Style statusStyle(const QString& status) {
  static const QStringList good = {QStringLiteral("Running"), QStringLiteral("Available"), QStringLiteral("Completed"),
                                   QStringLiteral("ScaledToZero")};
  static const QStringList warn = {QStringLiteral("Pending"), QStringLiteral("ContainerCreating"),
                                   QStringLiteral("PodInitializing"), QStringLiteral("Progressing"),
                                   QStringLiteral("Terminating"), QStringLiteral("Starting")};
  if (good.contains(status)) return Style::Good;
  if (warn.contains(status) || status.startsWith(QLatin1String("Init:"))) return Style::Warn;
  return status.isEmpty() ? Style::Dim : Style::Bad;
}

Style breakerStyle(const QString& state) {
  if (state == QLatin1String("closed")) return Style::Good;
  if (state == QLatin1String("half_open")) return Style::Warn;
  if (state == QLatin1String("open") || state == QLatin1String("forced_open")) return Style::Bad;
  return Style::Dim;
}

QString valueOrDash(double value, const QString& text) { return std::isfinite(value) ? text : QStringLiteral("–"); }

void sectionTitle(Canvas& canvas, int row, const QString& title, const QString& note = {}) {
  canvas.put(row, 0, QString(canvas.width(), kHorizontal), Style::Dim);
  int col = canvas.put(row, 1, QStringLiteral(" %1 ").arg(title), Style::Title);
  if (!note.isEmpty()) canvas.put(row, col + 1, QStringLiteral(" %1 ").arg(elide(note, canvas.width() - col - 4)), Style::Dim);
}

// ---- header ------------------------------------------------------------------------------

void drawHeader(Canvas& canvas, const HeaderState& header) {
  int col = canvas.put(0, 0, QStringLiteral(" mambogo "), Style::Header);
  col += 1;
  using Connection = HeaderState::Connection;
  if (header.connection == Connection::None) {
    col = canvas.put(0, col, QStringLiteral("○ not connected"), Style::Dim);
  } else {
    col = canvas.put(0, col, header.context, Style::Normal);
    col = canvas.put(0, col + 1, header.server, Style::Dim);
    switch (header.connection) {
      case Connection::Connecting: col = canvas.put(0, col + 2, QStringLiteral("◌ connecting…"), Style::Warn); break;
      case Connection::Connected: col = canvas.put(0, col + 2, QStringLiteral("● connected"), Style::Good); break;
      case Connection::Error:
        col = canvas.put(0, col + 2, QStringLiteral("✖ ") + elide(header.connectionDetail, 40), Style::Bad);
        break;
      case Connection::None: break;
    }
  }
  if (!header.cluster.isEmpty()) {
    col = canvas.put(0, col + 2, QStringLiteral("local cluster: "), Style::Dim);
    const Style style = header.cluster.startsWith(QLatin1String("ready")) ? Style::Good
                        : header.cluster.startsWith(QLatin1String("failed")) ? Style::Bad
                                                                              : Style::Warn;
    col = canvas.put(0, col, header.cluster, style);
  }
  col = canvas.put(0, col + 2, QStringLiteral("load: "), Style::Dim);
  canvas.put(0, col, elide(header.load, canvas.width() - col), header.loadRunning ? Style::Accent : Style::Normal);
}

// ---- cluster table -----------------------------------------------------------------------

struct TableColumn {
  QString title;
  int width;
  bool right;
  int dropOrder;  // 0: never dropped; higher ones go first
};

enum TableField { FName, FStatus, FReady, FRestarts, FAge, FCpu, FMemory, FRps, FP99, FieldCount };

std::array<TableColumn, FieldCount> tableColumns() {
  return {{{QStringLiteral("NAME"), 0, false, 0},
           {QStringLiteral("STATUS"), 17, false, 0},
           {QStringLiteral("READY"), 5, true, 5},
           {QStringLiteral("RESTARTS"), 8, true, 8},
           {QStringLiteral("AGE"), 5, true, 7},
           {QStringLiteral("CPU"), 6, true, 3},
           {QStringLiteral("MEMORY"), 7, true, 6},
           {QStringLiteral("RPS"), 7, true, 2},
           {QStringLiteral("P99"), 9, true, 4}}};
}

// The columns shown at `width` (the name column gets what is left, at least kMinName).
std::array<bool, FieldCount> visibleColumns(int width, std::array<TableColumn, FieldCount>& columns) {
  constexpr int kMinName = 24;
  std::array<bool, FieldCount> shown;
  shown.fill(true);
  auto used = [&] {
    int total = 1;
    for (int f = 1; f < FieldCount; ++f)
      if (shown[f]) total += columns[f].width + 1;
    return total;
  };
  while (width - used() < kMinName) {
    int drop = -1;
    for (int f = 1; f < FieldCount; ++f)
      if (shown[f] && columns[f].dropOrder > 0 && (drop < 0 || columns[f].dropOrder > columns[drop].dropOrder)) drop = f;
    if (drop < 0) break;
    shown[drop] = false;
  }
  constexpr int kMaxName = 52;  // wider only spreads the figures away from the names
  columns[FName].width = std::clamp(width - used() - 1, 8, kMaxName);
  return shown;
}

QString cellText(const ClusterRow& row, int field) {
  switch (field) {
    case FName: {
      if (row.kind == ClusterRow::Kind::Pod) return (row.lastChild ? QStringLiteral(" └─ ") : QStringLiteral(" ├─ ")) + row.name;
      return row.name;
    }
    case FStatus: return row.status;
    case FReady: return row.ready;
    case FRestarts: return row.restarts;
    case FAge: return row.age;
    case FCpu: return row.cpu;
    case FMemory: return row.memory;
    case FRps: return row.rps;
    case FP99: return row.p99;
    default: return {};
  }
}

void drawTableRow(Canvas& canvas, int line, const ClusterRow& row, const std::array<TableColumn, FieldCount>& columns,
                  const std::array<bool, FieldCount>& shown, bool selected) {
  if (selected) canvas.fill(line, Style::Selected);
  int col = 1;
  for (int f = 0; f < FieldCount; ++f) {
    if (!shown[f]) continue;
    const TableColumn& c = columns[f];
    QString text = cellText(row, f);
    Style style = Style::Normal;
    if (f == FName && row.kind == ClusterRow::Kind::Workload) {
      const QString kind = row.workloadKind == QLatin1String("StatefulSet") ? QStringLiteral("sts") : QStringLiteral("deploy");
      const int nameWidth = std::min(textWidth(text), c.width - textWidth(kind) - 1);
      canvas.put(line, col, fitLeft(text, nameWidth), selected ? Style::Selected : Style::Title);
      canvas.put(line, col + nameWidth + 1, elide(kind, c.width - nameWidth - 1), selected ? Style::Selected : Style::Dim);
      col += c.width + 1;
      continue;
    }
    if (f == FStatus) style = statusStyle(text);
    if (f == FRestarts && text.toInt() > 0) style = Style::Warn;
    if (text.isEmpty()) {
      text = QStringLiteral("–");
      style = Style::Dim;
    }
    canvas.put(line, col, c.right ? fitRight(text, c.width) : fitLeft(text, c.width), selected ? Style::Selected : style);
    col += c.width + 1;
  }
}

void drawTable(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot, const KeyHandler& keys,
               ScreenLayout& layout) {
  auto columns = tableColumns();
  const auto shown = visibleColumns(canvas.width(), columns);
  canvas.fill(top, Style::Header);
  int col = 1;
  for (int f = 0; f < FieldCount; ++f) {
    if (!shown[f]) continue;
    const TableColumn& c = columns[f];
    canvas.put(top, col, c.right ? fitRight(c.title, c.width) : fitLeft(c.title, c.width), Style::Header);
    col += c.width + 1;
  }
  const int visible = height - 1;
  const int count = static_cast<int>(snapshot.rows.size());
  const int cursor = std::clamp(keys.cursor(), 0, std::max(count - 1, 0));
  int scroll = std::clamp(layout.tableScroll, 0, std::max(count - visible, 0));
  if (cursor < scroll) scroll = cursor;
  if (cursor >= scroll + visible) scroll = cursor - visible + 1;
  layout.tableScroll = scroll;
  layout.tableRows = visible;
  for (int i = 0; i < visible && scroll + i < count; ++i)
    drawTableRow(canvas, top + 1 + i, snapshot.rows[scroll + i], columns, shown, scroll + i == cursor);
  if (scroll > 0) canvas.put(top + 1, canvas.width() - 2, QStringLiteral("▲"), Style::Dim);
  if (scroll + visible < count) canvas.put(top + visible, canvas.width() - 2, QStringLiteral("▼"), Style::Dim);
}

void drawLaunch(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot) {
  const int ready = static_cast<int>(std::count_if(snapshot.launch.begin(), snapshot.launch.end(),
                                                   [](const core::PodLaunchState& p) { return p.isReady(); }));
  sectionTitle(canvas, top, QStringLiteral("Local cluster"),
               QStringLiteral("starting: %1 of %2 pods ready").arg(ready).arg(snapshot.launch.size()));
  const int nameWidth = std::clamp(canvas.width() / 3, 12, 40);
  for (int i = 0; i < height - 1 && i < snapshot.launch.size(); ++i) {
    const core::PodLaunchState& pod = snapshot.launch[i];
    const int line = top + 1 + i;
    int col = canvas.put(line, 2, pod.isReady() ? QStringLiteral("✔ ") : QStringLiteral("… "),
                         pod.isReady() ? Style::Good : Style::Warn);
    col = canvas.put(line, col, fitLeft(pod.name, nameWidth), Style::Normal) + 1;
    col = canvas.put(line, col, fitLeft(pod.state, 18), statusStyle(pod.state)) + 1;
    col = canvas.put(line, col, QStringLiteral("%1/%2").arg(pod.ready).arg(pod.total), Style::Normal) + 2;
    canvas.put(line, col, elide(pod.detail, canvas.width() - col), Style::Dim);
  }
}

void drawHint(Canvas& canvas, int top, int height, const QString& hint) {
  const QStringList lines = hint.split(QLatin1Char('\n'));
  const int first = top + std::max(0, (height - static_cast<int>(lines.size())) / 2);
  for (int i = 0; i < lines.size() && i < height; ++i) {
    const QString text = elide(lines[i], canvas.width() - 2);
    canvas.put(first + i, std::max(1, (canvas.width() - textWidth(text)) / 2), text, i == 0 ? Style::Title : Style::Dim);
  }
}

// ---- autoscalers, services, faults, events -----------------------------------------------

void drawHpas(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot) {
  sectionTitle(canvas, top, QStringLiteral("Autoscalers"));
  const int nameWidth = std::clamp(canvas.width() / 6, 10, 24);
  const int refWidth = std::clamp(canvas.width() / 4, 12, 36);
  for (int i = 0; i < height - 1 && i < snapshot.hpas.size(); ++i) {
    const HpaLine& hpa = snapshot.hpas[i];
    const int line = top + 1 + i;
    int col = canvas.put(line, 1, fitLeft(hpa.name, nameWidth), Style::Normal) + 1;
    col = canvas.put(line, col, fitLeft(hpa.reference, refWidth), Style::Dim) + 1;
    col = canvas.put(line, col, QStringLiteral("replicas "), Style::Dim);
    const bool scaling = hpa.current != hpa.desired;
    col = canvas.put(line, col,
                     scaling ? QStringLiteral("%1 → %2").arg(hpa.current).arg(hpa.desired) : QString::number(hpa.current),
                     scaling ? Style::Warn : Style::Good);
    col = canvas.put(line, col, QStringLiteral(" (min %1, max %2)").arg(hpa.min).arg(hpa.max), Style::Dim) + 2;
    canvas.put(line, col, elide(hpa.metrics, canvas.width() - col), Style::Normal);
  }
}

struct ServiceColumns {
  int name = 16, spark = 0;
  bool p50 = true, errors = true;
};

ServiceColumns serviceColumns(int width) {
  ServiceColumns c;
  constexpr int kBreakersMin = 22;
  auto fixed = [&] { return 1 + c.name + 1 + 13 + (c.p50 ? 14 : 0) + 14 + (c.errors ? 11 : 0) + 2 + kBreakersMin; };
  if (width - fixed() < 16) c.p50 = false;
  if (width - fixed() < 16) c.errors = false;
  c.spark = std::clamp((width - fixed()) / 2 - 1, 0, 60);
  return c;
}

void drawServices(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot) {
  const ServiceColumns c = serviceColumns(canvas.width());
  sectionTitle(canvas, top, QStringLiteral("Services"),
               c.spark > 0 ? QStringLiteral("requests/s and p99 over the last %1 s").arg(c.spark) : QString());
  for (int i = 0; i < height - 1 && i < snapshot.services.size(); ++i) {
    const ServiceLine& s = snapshot.services[i];
    const int line = top + 1 + i;
    int col = canvas.put(line, 1, fitLeft(s.app, c.name), Style::Normal) + 1;
    col = canvas.put(line, col, fitRight(valueOrDash(s.rps, core::formatRate(s.rps)), 8), Style::Normal);
    col = canvas.put(line, col, QStringLiteral(" rps "), Style::Dim);
    if (c.spark > 0) col = canvas.put(line, col, sparkline(s.rpsHistory, c.spark), Style::Accent) + 1;
    if (c.p50) {
      col = canvas.put(line, col, QStringLiteral(" p50 "), Style::Dim);
      col = canvas.put(line, col, fitRight(valueOrDash(s.p50, core::formatSeconds(s.p50)), 9), Style::Normal);
    }
    col = canvas.put(line, col, QStringLiteral(" p99 "), Style::Dim);
    col = canvas.put(line, col, fitRight(valueOrDash(s.p99, core::formatSeconds(s.p99)), 9), Style::Normal) + 1;
    if (c.spark > 0) col = canvas.put(line, col, sparkline(s.p99History, c.spark), Style::Accent);
    if (c.errors) {
      col = canvas.put(line, col, QStringLiteral(" err "), Style::Dim);
      const QString errors = valueOrDash(s.errorRate, QStringLiteral("%1%").arg(s.errorRate * 100, 0, 'f', 1));
      col = canvas.put(line, col, fitRight(errors, 6), std::isfinite(s.errorRate) && s.errorRate > 0 ? Style::Bad : Style::Normal);
    }
    col += 2;
    for (auto it = s.breakers.begin(); it != s.breakers.end() && col < canvas.width(); ++it) {
      QString state = it.value();
      state.replace(QLatin1Char('_'), QLatin1Char('-'));
      col = canvas.put(line, col, it.key() + QLatin1Char(':'), Style::Dim);
      col = canvas.put(line, col, QStringLiteral("● ") + state, breakerStyle(it.value())) + 2;
    }
  }
}

void drawFaults(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot) {
  sectionTitle(canvas, top, QStringLiteral("Faults"), QStringLiteral("f → r recovers all"));
  for (int i = 0; i < height - 1 && i < snapshot.faults.size(); ++i) {
    const FaultLine& fault = snapshot.faults[i];
    const int line = top + 1 + i;
    int col = canvas.put(line, 1, QStringLiteral("⚡ "), Style::Bad);
    col = canvas.put(line, col, elide(fault.summary, canvas.width() - col - 14), Style::Normal) + 2;
    if (fault.remainingS >= 0) canvas.put(line, col, QStringLiteral("%1 s left").arg(fault.remainingS), Style::Dim);
  }
}

void drawEvents(Canvas& canvas, int top, int height, const ScreenSnapshot& snapshot) {
  sectionTitle(canvas, top, QStringLiteral("Events"));
  const int shown = std::min<int>(height - 1, static_cast<int>(snapshot.events.size()));
  const int first = static_cast<int>(snapshot.events.size()) - shown;
  const int objectWidth = std::clamp(canvas.width() / 5, 12, 36);
  for (int i = 0; i < shown; ++i) {
    const EventLine& e = snapshot.events[first + i];
    const int line = top + 1 + i;
    const bool warning = e.type == QLatin1String("Warning");
    int col = canvas.put(line, 1, e.time.toLocalTime().toString(QStringLiteral("HH:mm:ss")), Style::Dim) + 1;
    col = canvas.put(line, col, fitLeft(e.type, 7), warning ? Style::Warn : Style::Dim) + 1;
    col = canvas.put(line, col, fitLeft(e.object, objectWidth), Style::Normal) + 1;
    col = canvas.put(line, col, fitLeft(e.reason, 18), warning ? Style::Warn : Style::Normal) + 1;
    QString message = e.message;
    if (e.count > 1) message += QStringLiteral(" (×%1)").arg(e.count);
    canvas.put(line, col, elide(message, canvas.width() - col), Style::Normal);
  }
}

// ---- status line and dialogs -------------------------------------------------------------

void drawStatus(Canvas& canvas, const StatusMessage& status, const KeyHandler& keys) {
  const int row = canvas.height() - 1;
  static const QList<QPair<QString, QString>> hints = {
      {QStringLiteral("L"), QStringLiteral("launch")}, {QStringLiteral("s"), QStringLiteral("scale")},
      {QStringLiteral("d"), QStringLiteral("delete pod")}, {QStringLiteral("f"), QStringLiteral("faults")},
      {QStringLiteral("l"), QStringLiteral("load")}, {QStringLiteral("D"), QStringLiteral("drill")},
      {QStringLiteral("?"), QStringLiteral("help")},
      {QStringLiteral("q"), QStringLiteral("quit")}};
  const QString message = keys.note().isEmpty() ? status.text : keys.note();
  const bool error = keys.note().isEmpty() ? status.error : false;
  const int messageWidth = std::min(textWidth(message), canvas.width() - 2);
  int col = 1;
  for (const auto& [key, label] : hints) {
    if (col + textWidth(key) + textWidth(label) + 3 > canvas.width() - messageWidth - 2) break;
    col = canvas.put(row, col, key, Style::Accent) + 1;
    col = canvas.put(row, col, label, Style::Dim) + 2;
  }
  if (!message.isEmpty())
    canvas.put(row, canvas.width() - messageWidth - 1, elide(message, messageWidth), error ? Style::Bad : Style::Normal);
}

struct BoxLine {
  QString text;
  Style style = Style::Overlay;
};

void drawBox(Canvas& canvas, const QString& title, const QList<BoxLine>& lines) {
  int inner = textWidth(title) + 4;
  for (const BoxLine& line : lines) inner = std::max(inner, textWidth(line.text) + 2);
  inner = std::min(inner, canvas.width() - 4);
  const int height = std::min(static_cast<int>(lines.size()) + 2, canvas.height() - 2);
  const int left = (canvas.width() - inner - 2) / 2;
  const int top = std::max(1, (canvas.height() - height) / 2);
  canvas.put(top, left, QStringLiteral("┌") + QString(inner, kHorizontal) + QStringLiteral("┐"), Style::Overlay);
  canvas.put(top, left + 2, QStringLiteral(" %1 ").arg(elide(title, inner - 4)), Style::OverlayHighlight);
  for (int i = 0; i < height - 2; ++i) {
    const int row = top + 1 + i;
    canvas.put(row, left, QStringLiteral("│") + QString(inner, QLatin1Char(' ')) + QStringLiteral("│"), Style::Overlay);
    canvas.put(row, left + 2, elide(lines[i].text, inner - 2), lines[i].style);
    if (lines[i].style == Style::OverlayHighlight) canvas.paint(row, left + 1, inner, Style::OverlayHighlight);
  }
  canvas.put(top + height - 1, left, QStringLiteral("└") + QString(inner, kHorizontal) + QStringLiteral("┘"), Style::Overlay);
}

QList<BoxLine> helpLines() {
  const QStringList help = {
      QStringLiteral("↑ ↓ j k      move through deployments and pods"),
      QStringLiteral("PgUp PgDn    a page up / down;  g G  first / last"),
      QStringLiteral("L            launch the local cluster (mambogo-cluster)"),
      QStringLiteral("s            scale the selected deployment / statefulset"),
      QStringLiteral("d            delete the selected pod"),
      QStringLiteral("f            faults: pod kill, pod failure, network delay,"),
      QStringLiteral("             HTTP 503, CPU stress, recover all"),
      QStringLiteral("l            start load (plan, rate) / stop the running load"),
      QStringLiteral("D            run a drill (steps and verdict in the events) / abort it"),
      QStringLiteral("?            this help"),
      QStringLiteral("q            quit (stops a cluster this console started)"),
      QString(),
      QStringLiteral("Breakers: ● closed  ● half-open  ● open"),
      QStringLiteral("Press any key to close."),
  };
  QList<BoxLine> lines;
  for (const QString& line : help) lines << BoxLine{line};
  return lines;
}

void drawDialog(Canvas& canvas, const KeyHandler& keys) {
  using Mode = KeyHandler::Mode;
  QList<BoxLine> lines;
  switch (keys.mode()) {
    case Mode::Normal: return;
    case Mode::Help: drawBox(canvas, keys.title(), helpLines()); return;
    case Mode::Menu:
      for (int i = 0; i < keys.items().size(); ++i) {
        const auto& item = keys.items()[i];
        lines << BoxLine{QStringLiteral("%1  %2").arg(item.key.isEmpty() ? QStringLiteral(" ") : item.key, item.label),
                         i == keys.highlighted() ? Style::OverlayHighlight : Style::Overlay};
      }
      lines << BoxLine{} << BoxLine{QStringLiteral("↑↓ + Enter or the key · Esc cancels"), Style::Dim};
      break;
    case Mode::Prompt:
      lines << BoxLine{keys.question()} << BoxLine{QStringLiteral("> ") + keys.input() + QStringLiteral("▏"), Style::OverlayHighlight};
      if (!keys.error().isEmpty()) lines << BoxLine{keys.error(), Style::Bad};
      lines << BoxLine{} << BoxLine{QStringLiteral("Enter accepts · Esc cancels"), Style::Dim};
      break;
    case Mode::Confirm:
      lines << BoxLine{keys.question()} << BoxLine{} << BoxLine{QStringLiteral("y yes · n no"), Style::Dim};
      break;
  }
  drawBox(canvas, keys.title(), lines);
}

// ---- layout ------------------------------------------------------------------------------

struct Sections {
  int table = 0, hpas = 0, services = 0, faults = 0, events = 0;
};

// Heights (title lines included) for the sections between the header and the status line.
Sections allocate(int available, int tableWant, int hpaWant, int serviceWant, int faultWant, int eventWant) {
  Sections s;
  auto take = [&available](int& section, int want) {
    const int amount = std::clamp(want - section, 0, std::max(available, 0));
    section += amount;
    available -= amount;
  };
  take(s.table, std::min(tableWant, 4));
  take(s.services, serviceWant);
  take(s.faults, faultWant);
  take(s.hpas, hpaWant);
  take(s.events, std::min(eventWant, 4));
  take(s.table, tableWant);
  take(s.events, eventWant);  // the event tail takes what is left; blank rows stay at the bottom
  return s;
}

}  // namespace

int sparklineSeconds(int width) { return std::max(serviceColumns(width).spark, 1); }

Canvas renderScreen(const ScreenSnapshot& snapshot, const KeyHandler& keys, const StatusMessage& status, int width,
                    int height, ScreenLayout& layout) {
  Canvas canvas(width, height);
  if (width < kMinWidth || height < kMinHeight) {
    canvas.put(0, 0, elide(QStringLiteral("mambogo: terminal too small (%1x%2, need %3x%4)")
                               .arg(width).arg(height).arg(kMinWidth).arg(kMinHeight), width), Style::Warn);
    return canvas;
  }
  drawHeader(canvas, snapshot.header);

  const bool launchView = snapshot.launching && snapshot.rows.isEmpty();
  const bool hintView = !launchView && snapshot.rows.isEmpty();
  const int tableWant = launchView ? 1 + static_cast<int>(snapshot.launch.size())
                        : hintView ? height - 2
                                   : 1 + static_cast<int>(snapshot.rows.size());
  // No event tail before there is a cluster to hear from.
  const bool eventsShown = !snapshot.events.isEmpty() || snapshot.header.connection != HeaderState::Connection::None;
  const auto want = [](const auto& list, int max) { return list.isEmpty() ? 0 : 1 + std::min(static_cast<int>(list.size()), max); };
  const Sections s = allocate(height - 2, tableWant, want(snapshot.hpas, 6), want(snapshot.services, 10),
                              want(snapshot.faults, 3),
                              eventsShown ? 1 + static_cast<int>(snapshot.events.size()) : 0);
  int top = 1;
  if (s.table > 0) {
    if (launchView) drawLaunch(canvas, top, s.table, snapshot);
    else if (hintView) drawHint(canvas, top, s.table, snapshot.notConnectedHint);
    else drawTable(canvas, top, s.table, snapshot, keys, layout);
  }
  top += s.table;
  if (s.hpas > 0) drawHpas(canvas, top, s.hpas, snapshot);
  top += s.hpas;
  if (s.services > 0) drawServices(canvas, top, s.services, snapshot);
  top += s.services;
  if (s.faults > 0) drawFaults(canvas, top, s.faults, snapshot);
  top += s.faults;
  if (s.events > 0) drawEvents(canvas, top, s.events, snapshot);
  drawStatus(canvas, status, keys);
  drawDialog(canvas, keys);
  if (!snapshot.busy.isEmpty()) drawBox(canvas, QStringLiteral("Please wait"), {BoxLine{snapshot.busy}});
  return canvas;
}

}  // namespace mambogo::tui
