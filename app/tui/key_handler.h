// KeyHandler: the terminal UI's keyboard as a state machine — which keys do what in which
// mode, which dialog is open, what the user typed — turning key presses into Actions the
// application then carries out. Pure: no terminal, no cluster; tests drive it key by key.
//
// Modes and keys
//   Normal  ↑/↓ j/k PgUp/PgDn Home/End move the cursor over the cluster rows;
//           L launch the local cluster; s scale the workload under the cursor (prompt);
//           d delete the pod under the cursor (confirm); f faults menu; l start load (plan
//           menu, then rate prompt) or stop the running one; D run a drill (drill menu) or
//           abort the running one (confirm); ? help; q quit (confirm when load runs or the
//           console started the cluster).
//   Menu    ↑/↓ or the item's key picks, Enter chooses, Esc cancels.
//   Prompt  digits and '.', Backspace, Enter accepts, Esc cancels; bad input keeps the prompt
//           open with the reason shown.
//   Confirm y / Enter accepts, n / Esc cancels.
//   Help    any key closes it.
// Fault flow: f → kind (pod kill, pod failure, network delay, HTTP 503, CPU stress, recover
// all) → service (→ target service for network delay) → InjectFault / RecoverAll.
//
// Thread-safety: a value-like object used on one thread.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

#include "core/fault_controller.h"

namespace mambogo::tui {

// Keys other than characters (characters are their Unicode code point).
namespace Key {
constexpr int Up = 0x110001;
constexpr int Down = 0x110002;
constexpr int PageUp = 0x110003;
constexpr int PageDown = 0x110004;
constexpr int Home = 0x110005;
constexpr int End = 0x110006;
constexpr int Enter = 0x110007;
constexpr int Escape = 0x110008;
constexpr int Backspace = 0x110009;
constexpr int Left = 0x11000a;
constexpr int Right = 0x11000b;
}  // namespace Key

struct Action {
  enum class Type { None, Quit, Launch, Scale, DeletePod, InjectFault, RecoverAll, StartLoad, StopLoad, RunDrill, AbortDrill };
  Action() = default;
  Action(Type t) : type(t) {}  // NOLINT(google-explicit-constructor): `return {Type::Quit};` reads best

  Type type = Type::None;
  QString kind;     // Scale: "Deployment" / "StatefulSet"
  QString name;     // Scale: workload; DeletePod: pod; RunDrill: the drill's id
  int replicas = 0; // Scale
  core::FaultSpec fault;  // InjectFault
  QString plan;     // StartLoad: a LoadPlanChoice id
  double rate = 0;  // StartLoad: requests per second
};

// What the handler needs to know about the world when a key arrives.
struct KeyContext {
  int rowCount = 0;          // rows of the cluster table
  int pageRows = 10;         // rows one PgUp/PgDn moves
  // The row under the cursor: its workload (for pods: theirs) and, for a pod row, the pod.
  QString workloadKind, workloadName, podName, app;
  int desiredReplicas = -1;  // the selected workload's, as the prompt's default
  bool connected = false;
  bool launching = false;
  bool loadRunning = false;
  bool ownsCluster = false;
  QStringList services;      // app labels, for the fault service menus
  QList<QPair<QString, QString>> plans;  // (id, title) for the load plan menu
  QList<QPair<QString, QString>> drills; // (id, title) for the drill menu
  bool drillRunning = false;
};

class KeyHandler {
 public:
  enum class Mode { Normal, Menu, Prompt, Confirm, Help };

  struct MenuItem {
    QString key;    // the key that picks it ("1", "k", ...)
    QString label;
    QString value;  // what choosing it means to the handler
  };

  // Handles one key; returns the action to carry out (Type::None for none).
  Action press(int key, const KeyContext& context);

  Mode mode() const { return m_mode; }
  int cursor() const { return m_cursor; }
  // Keeps the cursor inside [0, rowCount) after the table changed.
  void clampCursor(int rowCount);
  void setCursor(int row) { m_cursor = row; }

  // The open dialog, for drawing.
  QString title() const { return m_title; }
  QString question() const { return m_question; }  // Prompt / Confirm text
  QString input() const { return m_input; }         // Prompt: typed so far
  QString error() const { return m_error; }         // Prompt: why the input was refused
  const QList<MenuItem>& items() const { return m_items; }
  int highlighted() const { return m_highlighted; }
  // A one-line note for the status bar about the last key ("select a pod first"), or "".
  QString note() const { return m_note; }

 private:
  enum class Step { None, ScaleReplicas, DeletePod, Quit, FaultKind, FaultService, FaultTarget, LoadPlan, LoadRate, DrillPick, DrillAbort };

  Action normalKey(int key, const KeyContext& context);
  Action menuKey(int key, const KeyContext& context);
  Action promptKey(int key);
  Action confirmKey(int key);
  Action chosen(const QString& value, const KeyContext& context);
  Action accepted(const QString& text);
  void openMenu(Step step, const QString& title, QList<MenuItem> items, const QString& preferred = {});
  void openPrompt(Step step, const QString& title, const QString& question, const QString& initial);
  void openConfirm(Step step, const QString& title, const QString& question);
  void openServiceMenu(Step step, const QString& title, const KeyContext& context, const QString& exclude);
  void close();

  Mode m_mode = Mode::Normal;
  Step m_step = Step::None;
  int m_cursor = 0;
  QString m_title, m_question, m_input, m_error, m_note;
  QList<MenuItem> m_items;
  int m_highlighted = 0;
  // What the open dialog acts on.
  QString m_kind, m_name;
  core::FaultSpec m_fault;
  QString m_plan;
};

}  // namespace mambogo::tui
