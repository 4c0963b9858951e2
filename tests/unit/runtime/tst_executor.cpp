#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/executor.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {
// Holds every task that enters it until open() is called.
class Gate {
 public:
  void pass() {
    std::unique_lock lock(m_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --waiting_;
  }
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiting(int n, std::chrono::milliseconds timeout = 2s) {
    std::unique_lock lock(m_);
    return changed_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex m_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

double metric(prometheus::Registry& r, const std::string& name) {
  return mambogo::test::metric_value(r, name);
}
}  // namespace

class TestExecutor : public QObject {
  Q_OBJECT
 private slots:
  void growsCoreThenQueueThenMaxThenRejects() {
    prometheus::Registry registry;
    BoundedExecutor ex({"t", 2, 4, 3, 60s, RejectionPolicy::reject}, &registry);
    Gate gate;
    auto blocked = [&] { gate.pass(); };
    // Two core threads start for the first two tasks.
    QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::accepted);
    QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::accepted);
    QVERIFY(gate.wait_for_waiting(2));
    QCOMPARE(ex.stats().pool_size, 2);
    // The next three queue: no new thread while the queue has room.
    for (int i = 0; i < 3; ++i) QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::accepted);
    QCOMPARE(ex.stats().queued, 3);
    QCOMPARE(ex.stats().pool_size, 2);
    // Queue full: threads grow up to max.
    QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::accepted);
    QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::accepted);
    QCOMPARE(ex.stats().pool_size, 4);
    QVERIFY(gate.wait_for_waiting(4));
    QCOMPARE(ex.stats().active, 4);
    // Pool and queue full: rejected, counted.
    QCOMPARE(ex.submit(blocked), BoundedExecutor::Submitted::rejected);
    QCOMPARE(ex.stats().rejected, std::uint64_t(1));
    QCOMPARE(metric(registry, "executor_rejected_tasks_total"), 1.0);
    QCOMPARE(metric(registry, "executor_queued_tasks"), 3.0);
    QCOMPARE(metric(registry, "executor_active_threads"), 4.0);
    QCOMPARE(metric(registry, "executor_pool_max_threads"), 4.0);
    gate.open();
    ex.shutdown();
    QCOMPARE(ex.stats().completed, std::uint64_t(7));
    QCOMPARE(metric(registry, "executor_completed_tasks_total"), 7.0);
    QCOMPARE(metric(registry, "executor_active_threads"), 0.0);
    QCOMPARE(metric(registry, "executor_pool_size_threads"), 0.0);
  }

  void callerRunsWhenSaturated() {
    BoundedExecutor ex({"t", 1, 1, 1, 60s, RejectionPolicy::caller_runs}, nullptr);
    Gate gate;
    ex.submit([&] { gate.pass(); });
    QVERIFY(gate.wait_for_waiting(1));
    ex.submit([] {});  // queued
    std::thread::id ran_on;
    QCOMPARE(ex.submit([&] { ran_on = std::this_thread::get_id(); }), BoundedExecutor::Submitted::ran_in_caller);
    QCOMPARE(ran_on, std::this_thread::get_id());
    QCOMPARE(ex.stats().caller_ran, std::uint64_t(1));
    gate.open();
  }

  void threadsAboveCoreExitAfterKeepAlive() {
    BoundedExecutor ex({"t", 1, 3, 0, 50ms, RejectionPolicy::reject}, nullptr);
    Gate gate;
    for (int i = 0; i < 3; ++i) ex.submit([&] { gate.pass(); });
    QVERIFY(gate.wait_for_waiting(3));
    QCOMPARE(ex.stats().pool_size, 3);
    gate.open();
    QTRY_COMPARE_WITH_TIMEOUT(ex.stats().pool_size, 1, 2000);
  }

  void shutdownRunsQueuedTasksAndRefusesNewOnes() {
    BoundedExecutor ex({"t", 1, 1, 10, 60s, RejectionPolicy::caller_runs}, nullptr);
    std::atomic<int> ran{0};
    for (int i = 0; i < 8; ++i) ex.submit([&] { std::this_thread::sleep_for(2ms); ++ran; });
    ex.shutdown();
    QCOMPARE(ran.load(), 8);
    // After shutdown even caller-runs refuses: nothing runs on a dead service.
    QCOMPARE(ex.submit([&] { ++ran; }), BoundedExecutor::Submitted::rejected);
    QCOMPARE(ran.load(), 8);
  }

  void taskExceptionDoesNotKillThePool() {
    BoundedExecutor ex({"t", 1, 1, 10, 60s, RejectionPolicy::reject}, nullptr);
    std::atomic<bool> after{false};
    ex.submit([] { throw std::runtime_error("boom"); });
    ex.submit([&] { after = true; });
    ex.shutdown();
    QVERIFY(after);
    QCOMPARE(ex.stats().completed, std::uint64_t(2));
  }

  void zeroCapacityQueueHandsTasksToIdleThreads() {
    // core 0, queue 0: every task needs a thread; an idle one must be reused, not bypassed.
    BoundedExecutor ex({"t", 0, 2, 0, 60s, RejectionPolicy::reject}, nullptr);
    std::atomic<int> ran{0};
    QCOMPARE(ex.submit([&] { ++ran; }), BoundedExecutor::Submitted::accepted);
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), 1, 2000);
    QTRY_COMPARE_WITH_TIMEOUT(ex.stats().active, 0, 2000);
    for (int i = 0; i < 20; ++i) {
      QCOMPARE(ex.submit([&] { ++ran; }), BoundedExecutor::Submitted::accepted);
      QTRY_COMPARE_WITH_TIMEOUT(ran.load(), i + 2, 2000);
      QTRY_COMPARE_WITH_TIMEOUT(ex.stats().active, 0, 2000);
    }
    QCOMPARE(ex.stats().pool_size, 1);  // one thread did it all
    QCOMPARE(ex.stats().rejected, std::uint64_t(0));
  }

  void growingTheCoreStartsThreadsForQueuedWorkAtOnce() {
    BoundedExecutor ex({"t", 1, 1, 10, 60s, RejectionPolicy::reject}, nullptr);
    Gate gate;
    for (int i = 0; i < 4; ++i) ex.submit([&] { gate.pass(); });
    QVERIFY(gate.wait_for_waiting(1));
    QCOMPARE(ex.stats().queued, 3);
    ex.resize(4, 4, 10);  // a drill raises executor.core-threads
    QVERIFY(gate.wait_for_waiting(4));
    QCOMPARE(ex.stats().queued, 0);
    QCOMPARE(ex.options().core_threads, 4);
    gate.open();
  }

  void shrinkingLetsSurplusThreadsGoAndAQueueAdmitsNoMoreThanItsNewCapacity() {
    BoundedExecutor ex({"t", 3, 3, 10, 50ms, RejectionPolicy::reject}, nullptr);
    Gate gate;
    for (int i = 0; i < 3; ++i) ex.submit([&] { gate.pass(); });
    QVERIFY(gate.wait_for_waiting(3));
    ex.resize(1, 1, 1);
    QCOMPARE(ex.submit([] {}), BoundedExecutor::Submitted::accepted);  // queued: 1 of 1
    QCOMPARE(ex.submit([] {}), BoundedExecutor::Submitted::rejected);
    gate.open();
    QTRY_COMPARE_WITH_TIMEOUT(ex.stats().pool_size, 1, 3000);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ex.resize(3, 2, 1));
    QCOMPARE(ex.options().max_threads, 1);  // a refused resize changes nothing
  }

  void refusesInconsistentOptions() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, BoundedExecutor({"t", 5, 2, 1, 1s, RejectionPolicy::reject}, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, BoundedExecutor({"t", 0, 0, 1, 1s, RejectionPolicy::reject}, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestExecutor)
#include "tst_executor.moc"
