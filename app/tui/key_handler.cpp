#include "tui/key_handler.h"

#include <algorithm>

namespace mambogo::tui {

namespace {

using Kind = core::FaultSpec::Kind;

constexpr int kMaxReplicas = 100;
constexpr double kMaxRate = 10'000;
const QString kRecoverAll = QStringLiteral("recover");

QString faultValue(Kind kind) { return QString::number(static_cast<int>(kind)); }

bool isChar(int key, char c) { return key == c; }

}  // namespace

Action KeyHandler::press(int key, const KeyContext& context) {
  m_note.clear();
  switch (m_mode) {
    case Mode::Normal: return normalKey(key, context);
    case Mode::Menu: return menuKey(key, context);
    case Mode::Prompt: return promptKey(key);
    case Mode::Confirm: return confirmKey(key);
    case Mode::Help: close(); return {};
  }
  return {};
}

void KeyHandler::clampCursor(int rowCount) { m_cursor = std::clamp(m_cursor, 0, std::max(rowCount - 1, 0)); }

Action KeyHandler::normalKey(int key, const KeyContext& context) {
  const int page = std::max(context.pageRows, 1);
  switch (key) {
    case Key::Up: case 'k': m_cursor -= 1; break;
    case Key::Down: case 'j': m_cursor += 1; break;
    case Key::PageUp: m_cursor -= page; break;
    case Key::PageDown: m_cursor += page; break;
    case Key::Home: case 'g': m_cursor = 0; break;
    case Key::End: case 'G': m_cursor = context.rowCount - 1; break;
    default: break;
  }
  clampCursor(context.rowCount);

  if (isChar(key, '?')) {
    m_mode = Mode::Help;
    m_title = QStringLiteral("Help");
  } else if (isChar(key, 'q')) {
    if (!context.loadRunning && !context.ownsCluster && !context.drillRunning) return {Action::Type::Quit};
    QStringList what;
    if (context.drillRunning) what << QStringLiteral("abort the drill (its rollback runs first)");
    if (context.loadRunning) what << QStringLiteral("stop the running load");
    if (context.ownsCluster) what << QStringLiteral("stop the local cluster");
    openConfirm(Step::Quit, QStringLiteral("Quit"), QStringLiteral("Quit and %1?").arg(what.join(QStringLiteral(" and "))));
  } else if (isChar(key, 'L')) {
    if (context.connected || context.launching) m_note = QStringLiteral("already connected to a cluster");
    else return {Action::Type::Launch};
  } else if (isChar(key, 's')) {
    if (context.workloadName.isEmpty()) m_note = QStringLiteral("select a deployment or statefulset to scale");
    else {
      m_kind = context.workloadKind;
      m_name = context.workloadName;
      openPrompt(Step::ScaleReplicas, QStringLiteral("Scale"),
                 QStringLiteral("Replicas for %1/%2 (0-%3):").arg(m_kind, m_name).arg(kMaxReplicas),
                 context.desiredReplicas >= 0 ? QString::number(context.desiredReplicas) : QString());
    }
  } else if (isChar(key, 'd')) {
    if (context.podName.isEmpty()) m_note = QStringLiteral("select a pod to delete");
    else {
      m_name = context.podName;
      openConfirm(Step::DeletePod, QStringLiteral("Delete pod"), QStringLiteral("Delete pod %1?").arg(m_name));
    }
  } else if (isChar(key, 'f')) {
    if (!context.connected) m_note = QStringLiteral("not connected to a cluster");
    else {
      m_fault = {};
      m_fault.service = context.app;
      openMenu(Step::FaultKind, QStringLiteral("Inject a fault"),
               {{QStringLiteral("1"), QStringLiteral("Pod kill (one pod)"), faultValue(Kind::PodKill)},
                {QStringLiteral("2"), QStringLiteral("Pod failure (one pod, 30 s)"), faultValue(Kind::PodFailure)},
                {QStringLiteral("3"), QStringLiteral("Network delay 200 ms (30 s)"), faultValue(Kind::NetworkDelay)},
                {QStringLiteral("4"), QStringLiteral("HTTP 503 on a service (30 s)"), faultValue(Kind::HttpReplaceCode)},
                {QStringLiteral("5"), QStringLiteral("CPU stress (30 s)"), faultValue(Kind::CpuStress)},
                {QStringLiteral("r"), QStringLiteral("Recover all"), kRecoverAll}});
    }
  } else if (isChar(key, 'D')) {
    if (context.drillRunning) openConfirm(Step::DrillAbort, QStringLiteral("Drill"), QStringLiteral("Abort the running drill (its rollbacks run)?"));
    else if (!context.connected) m_note = QStringLiteral("not connected to a cluster");
    else if (context.drills.isEmpty()) m_note = QStringLiteral("no drills found");
    else {
      QList<MenuItem> items;
      for (int i = 0; i < context.drills.size(); ++i)
        items << MenuItem{i < 9 ? QString::number(i + 1) : i == 9 ? QStringLiteral("0") : QString(), context.drills[i].second, context.drills[i].first};
      openMenu(Step::DrillPick, QStringLiteral("Run a drill"), items);
    }
  } else if (isChar(key, 'l')) {
    if (context.loadRunning) return {Action::Type::StopLoad};
    if (!context.connected) m_note = QStringLiteral("not connected to a cluster");
    else if (context.plans.isEmpty()) m_note = QStringLiteral("no load plans found");
    else {
      QList<MenuItem> items;
      for (int i = 0; i < context.plans.size(); ++i)
        items << MenuItem{i < 9 ? QString::number(i + 1) : QString(), context.plans[i].second, context.plans[i].first};
      openMenu(Step::LoadPlan, QStringLiteral("Start load"), items);
    }
  }
  return {};
}

Action KeyHandler::menuKey(int key, const KeyContext& context) {
  const int count = static_cast<int>(m_items.size());
  if (key == Key::Escape || isChar(key, 'q')) {
    close();
  } else if (key == Key::Up || isChar(key, 'k')) {
    m_highlighted = (m_highlighted + count - 1) % std::max(count, 1);
  } else if (key == Key::Down || isChar(key, 'j')) {
    m_highlighted = (m_highlighted + 1) % std::max(count, 1);
  } else if (key == Key::Enter && count > 0) {
    return chosen(m_items[m_highlighted].value, context);
  } else {
    for (const MenuItem& item : m_items)
      if (!item.key.isEmpty() && key == item.key.at(0).unicode()) return chosen(item.value, context);
  }
  return {};
}

Action KeyHandler::chosen(const QString& value, const KeyContext& context) {
  switch (m_step) {
    case Step::FaultKind:
      if (value == kRecoverAll) {
        close();
        return {Action::Type::RecoverAll};
      }
      m_fault.kind = static_cast<Kind>(value.toInt());
      m_fault.durationS = 30;
      openServiceMenu(Step::FaultService,
                      m_fault.kind == Kind::NetworkDelay ? QStringLiteral("Delay traffic from") : QStringLiteral("Fault on"),
                      context, {});
      return {};
    case Step::FaultService:
      m_fault.service = value;
      if (m_fault.kind == Kind::NetworkDelay) {
        openServiceMenu(Step::FaultTarget, QStringLiteral("Delay traffic from %1 to").arg(value), context, value);
        return {};
      }
      break;
    case Step::FaultTarget: m_fault.targetService = value; break;
    case Step::DrillPick: {
      Action action{Action::Type::RunDrill};
      action.name = value;
      close();
      return action;
    }
    case Step::LoadPlan:
      m_plan = value;
      openPrompt(Step::LoadRate, QStringLiteral("Start load"), QStringLiteral("Requests per second:"), QStringLiteral("20"));
      return {};
    default: return {};
  }
  Action action{Action::Type::InjectFault};
  action.fault = m_fault;
  close();
  return action;
}

Action KeyHandler::promptKey(int key) {
  if (key == Key::Escape) {
    close();
  } else if (key == Key::Enter) {
    return accepted(m_input.trimmed());
  } else if (key == Key::Backspace) {
    m_input.chop(1);
    m_error.clear();
  } else if ((key >= '0' && key <= '9') || key == '.') {
    if (m_input.size() < 8) m_input += QChar(key);
    m_error.clear();
  }
  return {};
}

Action KeyHandler::accepted(const QString& text) {
  bool ok = false;
  if (m_step == Step::ScaleReplicas) {
    const int replicas = text.toInt(&ok);
    if (!ok || replicas < 0 || replicas > kMaxReplicas) {
      m_error = QStringLiteral("'%1' is not a whole number from 0 to %2").arg(text).arg(kMaxReplicas);
      return {};
    }
    Action action{Action::Type::Scale};
    action.kind = m_kind;
    action.name = m_name;
    action.replicas = replicas;
    close();
    return action;
  }
  const double rate = text.toDouble(&ok);
  if (!ok || rate <= 0 || rate > kMaxRate) {
    m_error = QStringLiteral("'%1' is not a rate above 0 and at most %2").arg(text).arg(kMaxRate);
    return {};
  }
  Action action{Action::Type::StartLoad};
  action.plan = m_plan;
  action.rate = rate;
  close();
  return action;
}

Action KeyHandler::confirmKey(int key) {
  if (key == Key::Escape || isChar(key, 'n') || isChar(key, 'N')) {
    close();
    return {};
  }
  if (key != Key::Enter && !isChar(key, 'y') && !isChar(key, 'Y')) return {};
  Action action;
  if (m_step == Step::Quit) action.type = Action::Type::Quit;
  if (m_step == Step::DrillAbort) action.type = Action::Type::AbortDrill;
  if (m_step == Step::DeletePod) {
    action.type = Action::Type::DeletePod;
    action.name = m_name;
  }
  close();
  return action;
}

void KeyHandler::openMenu(Step step, const QString& title, QList<MenuItem> items, const QString& preferred) {
  m_mode = Mode::Menu;
  m_step = step;
  m_title = title;
  m_items = std::move(items);
  m_highlighted = 0;
  for (int i = 0; i < m_items.size(); ++i)
    if (m_items[i].value == preferred) m_highlighted = i;
}

void KeyHandler::openPrompt(Step step, const QString& title, const QString& question, const QString& initial) {
  m_mode = Mode::Prompt;
  m_step = step;
  m_title = title;
  m_question = question;
  m_input = initial;
  m_error.clear();
}

void KeyHandler::openConfirm(Step step, const QString& title, const QString& question) {
  m_mode = Mode::Confirm;
  m_step = step;
  m_title = title;
  m_question = question;
}

void KeyHandler::openServiceMenu(Step step, const QString& title, const KeyContext& context, const QString& exclude) {
  QList<MenuItem> items;
  int number = 0;
  for (const QString& service : context.services) {
    if (service == exclude) continue;
    ++number;
    items << MenuItem{number < 10 ? QString::number(number) : QString(), service, service};
  }
  if (items.isEmpty()) {
    close();
    m_note = QStringLiteral("no services with metrics yet");
    return;
  }
  openMenu(step, title, items, context.app);
}

void KeyHandler::close() {
  m_mode = Mode::Normal;
  m_step = Step::None;
  m_title.clear();
  m_question.clear();
  m_input.clear();
  m_error.clear();
  m_items.clear();
  m_highlighted = 0;
}

}  // namespace mambogo::tui
