// The worker every controller runs on (client-go's workqueue + worker, reduced to one thread):
// a de-duplicating queue of keys fed by store watch callbacks, delayed re-queues, and a periodic
// resync that queues every key the controller owns. Syncs run one at a time on the loop's own
// thread, so a controller's sync needs no lock of its own and may write to the store.
//
// A sync that throws is logged and retried after `retry_delay`.
//
// Thread-safety: enqueue() and enqueue_after() from any thread, including store watch callbacks
// (they only touch the queue). start()/stop() from the owner's thread. Lifetime: stop() (or the
// destructor) joins the thread; the callbacks must outlive it.
#pragma once

#include "store/store.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace mambogo::sim::ctl {

using Key = ObjectRef;  // what a controller syncs: usually {resource, ns, name} of its primary object

class ControllerLoop {
 public:
  using SyncFn = std::function<void(const Key&)>;
  using ListFn = std::function<std::vector<Key>()>;

  // name: for logs. resync: every key from list_all is queued this often (and at start).
  ControllerLoop(std::string name, std::chrono::milliseconds resync, ListFn list_all, SyncFn sync,
                 std::chrono::milliseconds retry_delay = std::chrono::milliseconds(500));
  ~ControllerLoop();
  ControllerLoop(const ControllerLoop&) = delete;
  ControllerLoop& operator=(const ControllerLoop&) = delete;

  void start();
  void stop();  // waits for a running sync to finish; pending keys are dropped

  void enqueue(const Key& key);
  void enqueue_after(const Key& key, std::chrono::milliseconds delay);

 private:
  using SteadyClock = std::chrono::steady_clock;
  void run();
  void push_locked(const Key& key);

  // Constant after construction.
  const std::string name_;
  const std::chrono::milliseconds resync_;
  const std::chrono::milliseconds retry_delay_;
  const ListFn list_all_;
  const SyncFn sync_;

  // Guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Key> queue_;
  std::set<Key> queued_;
  std::multimap<SteadyClock::time_point, Key> delayed_;
  bool running_ = false;
  bool stopping_ = false;

  std::thread thread_;
};

}  // namespace mambogo::sim::ctl
