// Mutual exclusion per key (an order id): lock("a") and lock("b") run side by side, two
// lock("a") one after the other. Entries exist only while someone holds or waits for them,
// so memory stays proportional to the callers in flight.
//
// Thread-safety: every member may be called from any thread. A Guard may be destroyed on any
// thread, but before the KeyedMutex.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mambogo::payment {

class KeyedMutex {
 public:
  class Guard {
   public:
    Guard(KeyedMutex& owner, std::string key) : owner_(&owner), key_(std::move(key)) { owner_->acquire(key_); }
    ~Guard() { owner_->release(key_); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    KeyedMutex* owner_;
    std::string key_;
  };

  Guard lock(std::string key) { return Guard(*this, std::move(key)); }

 private:
  struct Entry {
    bool held = false;
    int waiters = 0;
  };

  void acquire(const std::string& key) {
    std::unique_lock lock(mutex_);
    Entry& e = entries_[key];
    ++e.waiters;
    released_.wait(lock, [&e] { return !e.held; });
    --e.waiters;
    e.held = true;
  }

  void release(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    it->second.held = false;
    if (it->second.waiters == 0) entries_.erase(it);
    released_.notify_all();
  }

  // Guarded by mutex_. unordered_map never moves its elements, so Entry& stays valid.
  std::mutex mutex_;
  std::condition_variable released_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mambogo::payment
