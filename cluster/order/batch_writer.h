// Group commit for new orders, the C++ counterpart of the seed's Hibernate batching
// (hibernate.jdbc.batch_size 50, order_inserts): requests hand their order to the writer and
// wait; a writer thread takes up to batch_size queued orders (waiting at most max_linger after
// the first one for more to arrive), inserts them with one multi-row statement in one
// transaction, and only after the commit answers each request: created, replayed (the same
// key with the same body: the existing order), or key_reused (the same key, another body).
//
// A batch that fails on a bad row is retried one order at a time, so one poison row fails
// alone; a batch that fails because the database is unreachable answers unavailable to all.
// The queue is bounded (max_queued): beyond it, or after stop(), submit() answers overloaded
// at once. batch_size may change at run time (the order.batch-size switch); 1 turns batching
// off.
//
// Ownership: borrows the repository, metrics and logger (they outlive it).
// Thread-safety: submit(), set_batch_size(), batch_size() from any thread; stop() from one.
// Callbacks run on a writer thread (or inline in submit() when refused) and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "order/order.h"
#include "order/order_metrics.h"
#include "order/order_repository.h"

namespace mambogo::runtime {
class Logger;
}

namespace mambogo::order {

struct BatchSettings {
  int batch_size = 50;
  std::chrono::microseconds max_linger{2'000};
  int writers = 1;                  // threads committing batches in parallel
  std::size_t max_queued = 10'000;  // orders waiting for a batch
};

struct InsertResult {
  enum class Kind { created, replayed, key_reused, unavailable, overloaded } kind = Kind::unavailable;
  Order order;          // created: the stored order; replayed: the existing one
  std::string message;  // unavailable: why
};

class BatchWriter {
 public:
  using Done = std::function<void(InsertResult)>;
  using Created = std::function<void(const std::vector<Order>&)>;

  // on_created runs on the writer thread after each commit, with the orders it created
  // (after their requests were answered): the processor's hand-off.
  BatchWriter(OrderRepository& repository, BatchSettings settings, OrderMetrics& metrics,
              runtime::Logger& logger, Created on_created);
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  void submit(Order order, Done done);

  void set_batch_size(int size);  // 1..kMaxBatchSize, else std::invalid_argument
  int batch_size() const;
  static constexpr int kMaxBatchSize = 1000;

  // Writes what is queued, then joins the writers. Idempotent.
  void stop();

 private:
  struct Pending {
    Order order;
    Done done;
  };
  void run();
  std::vector<Pending> take_batch();  // blocks; empty when stopping and nothing is left
  void write(std::vector<Pending>& batch);
  InsertResult resolve_conflict(Pending& p);

  // Constant after construction.
  OrderRepository& repository_;
  OrderMetrics& metrics_;
  runtime::Logger& logger_;
  const BatchSettings settings_;
  const Created on_created_;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<Pending> queue_;
  int batch_size_;
  bool stopping_ = false;

  std::vector<std::thread> writers_;  // started last, joined in stop()
};

}  // namespace mambogo::order
