// The terminal UI's keyboard, key by key: what each key does in each mode and which action
// comes out — scaling, deleting, faults, load, quitting — and that bad input and Esc never
// act.
#include <QtTest>

#include "tui/key_handler.h"

using namespace mambogo::tui;
using Type = Action::Type;
using FaultKind = mambogo::core::FaultSpec::Kind;
using Mode = KeyHandler::Mode;

namespace {

KeyContext onWorkload() {
  KeyContext c;
  c.rowCount = 6;
  c.pageRows = 3;
  c.workloadKind = QStringLiteral("Deployment");
  c.workloadName = QStringLiteral("order-service");
  c.app = QStringLiteral("order-service");
  c.desiredReplicas = 2;
  c.connected = true;
  c.services = {QStringLiteral("gateway"), QStringLiteral("order-service"), QStringLiteral("payment-service")};
  c.plans = {{QStringLiteral("builtin:browse"), QStringLiteral("Browse")}, {QStringLiteral("/plans/seed.yml"), QStringLiteral("Seed")}};
  c.drills = {{QStringLiteral("multi-layer-caching"), QStringLiteral("Multi-layer caching")},
              {QStringLiteral("payment-outage"), QStringLiteral("Payment provider outage")}};
  return c;
}

KeyContext onPod() {
  KeyContext c = onWorkload();
  c.podName = QStringLiteral("order-service-7d9f-x2k8q");
  c.desiredReplicas = -1;
  return c;
}

Action type(KeyHandler& keys, const QString& text, const KeyContext& context) {
  Action last;
  for (QChar ch : text) last = keys.press(ch.unicode(), context);
  return last;
}

}  // namespace

class TestTuiKeys : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void cursorMovesAndStaysInsideTheTable() {
    KeyHandler keys;
    const KeyContext c = onWorkload();
    keys.press(Key::Up, c);
    QCOMPARE(keys.cursor(), 0);
    keys.press('j', c);
    keys.press(Key::Down, c);
    QCOMPARE(keys.cursor(), 2);
    keys.press(Key::PageDown, c);
    QCOMPARE(keys.cursor(), 5);
    keys.press(Key::PageDown, c);
    QCOMPARE(keys.cursor(), 5);
    keys.press(Key::Home, c);
    QCOMPARE(keys.cursor(), 0);
    keys.press('G', c);
    QCOMPARE(keys.cursor(), 5);
    keys.clampCursor(2);  // the table shrank under the cursor
    QCOMPARE(keys.cursor(), 1);
  }

  void scalePromptsWithTheCurrentReplicasAndScalesTheWorkload() {
    KeyHandler keys;
    QCOMPARE(keys.press('s', onWorkload()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Prompt);
    QCOMPARE(keys.input(), QStringLiteral("2"));
    keys.press(Key::Backspace, onWorkload());
    const Action action = [&] {
      type(keys, QStringLiteral("5"), onWorkload());
      return keys.press(Key::Enter, onWorkload());
    }();
    QCOMPARE(action.type, Type::Scale);
    QCOMPARE(action.kind, QStringLiteral("Deployment"));
    QCOMPARE(action.name, QStringLiteral("order-service"));
    QCOMPARE(action.replicas, 5);
    QCOMPARE(keys.mode(), Mode::Normal);
  }

  void scaleOnAPodScalesItsWorkload() {
    KeyHandler keys;
    keys.press('s', onPod());
    type(keys, QStringLiteral("3"), onPod());
    const Action action = keys.press(Key::Enter, onPod());
    QCOMPARE(action.type, Type::Scale);
    QCOMPARE(action.name, QStringLiteral("order-service"));
    QCOMPARE(action.replicas, 3);  // a pod row has no replica count to start the prompt with
  }

  void badReplicaCountsKeepThePromptOpen_data() {
    QTest::addColumn<QString>("typed");
    QTest::newRow("too many") << "500";
    QTest::newRow("fraction") << "1.5";
    QTest::newRow("empty") << "";
  }

  void badReplicaCountsKeepThePromptOpen() {
    QFETCH(QString, typed);
    KeyHandler keys;
    keys.press('s', onWorkload());
    keys.press(Key::Backspace, onWorkload());
    type(keys, typed, onWorkload());
    QCOMPARE(keys.press(Key::Enter, onWorkload()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Prompt);
    QVERIFY(keys.error().contains(QStringLiteral("not a whole number from 0 to 100")));
    QCOMPARE(keys.press(Key::Escape, onWorkload()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Normal);
  }

  void deleteAsksFirstAndOnlyForPods() {
    KeyHandler keys;
    QCOMPARE(keys.press('d', onWorkload()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Normal);
    QVERIFY(keys.note().contains(QStringLiteral("select a pod")));

    keys.press('d', onPod());
    QCOMPARE(keys.mode(), Mode::Confirm);
    QVERIFY(keys.question().contains(QStringLiteral("order-service-7d9f-x2k8q")));
    QCOMPARE(keys.press('n', onPod()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Normal);

    keys.press('d', onPod());
    const Action action = keys.press('y', onPod());
    QCOMPARE(action.type, Type::DeletePod);
    QCOMPARE(action.name, QStringLiteral("order-service-7d9f-x2k8q"));
  }

  void http503FaultOnAChosenService() {
    KeyHandler keys;
    keys.press('f', onWorkload());
    QCOMPARE(keys.mode(), Mode::Menu);
    QCOMPARE(keys.items().size(), 6);
    keys.press('4', onWorkload());
    QCOMPARE(keys.mode(), Mode::Menu);
    QCOMPARE(keys.items()[keys.highlighted()].value, QStringLiteral("order-service"));  // the selected row's
    const Action action = keys.press('3', onWorkload());
    QCOMPARE(action.type, Type::InjectFault);
    QCOMPARE(action.fault.kind, FaultKind::HttpReplaceCode);
    QCOMPARE(action.fault.replaceCode, 503);
    QCOMPARE(action.fault.service, QStringLiteral("payment-service"));
    QCOMPARE(action.fault.durationS, 30);
  }

  void networkDelayAsksForBothSides() {
    KeyHandler keys;
    keys.press('f', onWorkload());
    keys.press('3', onWorkload());
    keys.press(Key::Enter, onWorkload());  // order-service, highlighted
    QCOMPARE(keys.mode(), Mode::Menu);
    QCOMPARE(keys.items().size(), 2);  // the other two services
    keys.press(Key::Down, onWorkload());
    const Action action = keys.press(Key::Enter, onWorkload());
    QCOMPARE(action.type, Type::InjectFault);
    QCOMPARE(action.fault.kind, FaultKind::NetworkDelay);
    QCOMPARE(action.fault.service, QStringLiteral("order-service"));
    QCOMPARE(action.fault.targetService, QStringLiteral("payment-service"));
  }

  void recoverAllAndCancelling() {
    KeyHandler keys;
    keys.press('f', onWorkload());
    QCOMPARE(keys.press('r', onWorkload()).type, Type::RecoverAll);
    keys.press('f', onWorkload());
    keys.press('1', onWorkload());
    QCOMPARE(keys.press(Key::Escape, onWorkload()).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Normal);
    KeyContext offline = onWorkload();
    offline.connected = false;
    keys.press('f', offline);
    QCOMPARE(keys.mode(), Mode::Normal);
    QVERIFY(keys.note().contains(QStringLiteral("not connected")));
  }

  void loadPicksAPlanAndARateThenStops() {
    KeyHandler keys;
    keys.press('l', onWorkload());
    QCOMPARE(keys.mode(), Mode::Menu);
    keys.press('2', onWorkload());
    QCOMPARE(keys.mode(), Mode::Prompt);
    QCOMPARE(keys.input(), QStringLiteral("20"));
    keys.press(Key::Backspace, onWorkload());
    keys.press(Key::Backspace, onWorkload());
    type(keys, QStringLiteral("7.5"), onWorkload());
    const Action start = keys.press(Key::Enter, onWorkload());
    QCOMPARE(start.type, Type::StartLoad);
    QCOMPARE(start.plan, QStringLiteral("/plans/seed.yml"));
    QCOMPARE(start.rate, 7.5);

    KeyContext running = onWorkload();
    running.loadRunning = true;
    QCOMPARE(keys.press('l', running).type, Type::StopLoad);
  }

  void drillKeyRunsAPickedDrillAndAbortsARunningOne() {
    KeyHandler keys;
    KeyContext offline = onWorkload();
    offline.connected = false;
    QCOMPARE(keys.press('D', offline).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Normal);
    QVERIFY(keys.note().contains(QStringLiteral("not connected")));

    keys.press('D', onWorkload());
    QCOMPARE(keys.mode(), Mode::Menu);
    QCOMPARE(keys.items().size(), 2);
    QCOMPARE(keys.items()[1].label, QStringLiteral("Payment provider outage"));
    const Action run = keys.press('2', onWorkload());
    QCOMPARE(run.type, Type::RunDrill);
    QCOMPARE(run.name, QStringLiteral("payment-outage"));
    QCOMPARE(keys.mode(), Mode::Normal);

    KeyContext running = onWorkload();
    running.drillRunning = true;
    QCOMPARE(keys.press('D', running).type, Type::None);  // asks first
    QCOMPARE(keys.mode(), Mode::Confirm);
    QCOMPARE(keys.press('n', running).type, Type::None);
    keys.press('D', running);
    QCOMPARE(keys.press('y', running).type, Type::AbortDrill);
  }

  void zeroRateIsRefused() {
    KeyHandler keys;
    keys.press('l', onWorkload());
    keys.press(Key::Enter, onWorkload());
    keys.press(Key::Backspace, onWorkload());
    keys.press(Key::Backspace, onWorkload());
    keys.press('0', onWorkload());
    QCOMPARE(keys.press(Key::Enter, onWorkload()).type, Type::None);
    QVERIFY(!keys.error().isEmpty());
  }

  void quitAsksOnlyWhenSomethingWouldStop() {
    KeyHandler keys;
    QCOMPARE(keys.press('q', onWorkload()).type, Type::Quit);

    KeyContext owning = onWorkload();
    owning.ownsCluster = true;
    owning.loadRunning = true;
    QCOMPARE(keys.press('q', owning).type, Type::None);
    QCOMPARE(keys.mode(), Mode::Confirm);
    QVERIFY(keys.question().contains(QStringLiteral("stop the running load and stop the local cluster")));
    QCOMPARE(keys.press('x', owning).type, Type::None);  // other keys do nothing
    QCOMPARE(keys.mode(), Mode::Confirm);
    QCOMPARE(keys.press(Key::Escape, owning).type, Type::None);
    keys.press('q', owning);
    QCOMPARE(keys.press('y', owning).type, Type::Quit);

    KeyContext drilling = onWorkload();  // a remote cluster: the drill's rollback must run first
    drilling.drillRunning = true;
    QCOMPARE(keys.press('q', drilling).type, Type::None);
    QVERIFY2(keys.question().contains(QStringLiteral("abort the drill (its rollback runs first)")), qPrintable(keys.question()));
    QCOMPARE(keys.press('y', drilling).type, Type::Quit);
  }

  void launchOnlyWhenNotConnected() {
    KeyHandler keys;
    QCOMPARE(keys.press('L', onWorkload()).type, Type::None);
    QVERIFY(keys.note().contains(QStringLiteral("already connected")));
    KeyContext offline;
    QCOMPARE(keys.press('L', offline).type, Type::Launch);
    offline.launching = true;
    QCOMPARE(keys.press('L', offline).type, Type::None);
  }

  void helpClosesOnAnyKey() {
    KeyHandler keys;
    keys.press('?', onWorkload());
    QCOMPARE(keys.mode(), Mode::Help);
    QCOMPARE(keys.press('q', onWorkload()).type, Type::None);  // closes help, does not quit
    QCOMPARE(keys.mode(), Mode::Normal);
  }
};

QTEST_GUILESS_MAIN(TestTuiKeys)
#include "tst_tui_keys.moc"
