#include "order/batch_writer.h"

#include <stdexcept>
#include <unordered_set>

#include "runtime/db/db_error.h"
#include "runtime/logging.h"

namespace mambogo::order {
namespace {

bool outage(const db::DbError& e) {
  return e.kind() == db::DbErrorKind::connection_lost || e.kind() == db::DbErrorKind::timeout;
}

}  // namespace

BatchWriter::BatchWriter(OrderRepository& repository, BatchSettings settings, OrderMetrics& metrics,
                         runtime::Logger& logger, Created on_created)
    : repository_(repository),
      metrics_(metrics),
      logger_(logger),
      settings_(settings),
      on_created_(std::move(on_created)),
      batch_size_(settings.batch_size) {
  if (settings.batch_size < 1 || settings.batch_size > kMaxBatchSize || settings.writers < 1)
    throw std::invalid_argument("batch writer: batch size 1..1000 and at least one writer");
  for (int i = 0; i < settings_.writers; ++i) writers_.emplace_back([this] { run(); });
}

BatchWriter::~BatchWriter() { stop(); }

void BatchWriter::submit(Order order, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < settings_.max_queued) {
      queue_.push_back({std::move(order), std::move(done)});
      arrived_.notify_one();
      return;
    }
  }
  done({InsertResult::Kind::overloaded, {}, "the order writer's queue is full"});
}

void BatchWriter::set_batch_size(int size) {
  if (size < 1 || size > kMaxBatchSize) throw std::invalid_argument("batch size must be 1..1000");
  std::lock_guard lock(mutex_);
  batch_size_ = size;
}

int BatchWriter::batch_size() const {
  std::lock_guard lock(mutex_);
  return batch_size_;
}

void BatchWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  arrived_.notify_all();
  for (auto& t : writers_)
    if (t.joinable()) t.join();
  writers_.clear();
}

void BatchWriter::run() {
  while (true) {
    std::vector<Pending> batch = take_batch();
    if (batch.empty()) return;
    write(batch);
  }
}

std::vector<BatchWriter::Pending> BatchWriter::take_batch() {
  std::unique_lock lock(mutex_);
  arrived_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  std::vector<Pending> batch;
  if (queue_.empty()) return batch;
  // Linger: the first order waits at most max_linger for company. Bounded by the deadline.
  const auto deadline = std::chrono::steady_clock::now() + settings_.max_linger;
  while (static_cast<int>(queue_.size()) < batch_size_ && !stopping_) {
    if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  const std::size_t n = std::min(queue_.size(), static_cast<std::size_t>(batch_size_));
  batch.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (!queue_.empty()) arrived_.notify_one();  // another writer may start the next batch
  return batch;
}

void BatchWriter::write(std::vector<Pending>& batch) {
  std::vector<const Order*> orders;
  orders.reserve(batch.size());
  for (const auto& p : batch) orders.push_back(&p.order);
  std::unordered_set<std::string> inserted;
  try {
    inserted = repository_.insert_batch(orders);
  } catch (const db::DbError& e) {
    if (batch.size() > 1 && !outage(e)) {
      logger_.warn("order batch failed, writing its orders one by one", {{"size", batch.size()}, {"error", e.what()}});
      for (auto& p : batch) {
        std::vector<Pending> single;
        single.push_back(std::move(p));
        write(single);
      }
      return;
    }
    logger_.error("order insert failed", {{"size", batch.size()}, {"error", e.what()}, {"kind", db::to_string(e.kind())}});
    for (auto& p : batch) p.done({InsertResult::Kind::unavailable, {}, "the order store is unavailable"});
    return;
  }
  metrics_.batch_committed(batch.size());
  metrics_.created(inserted.size());
  std::vector<Order> created;
  created.reserve(inserted.size());
  for (auto& p : batch) {
    if (inserted.count(p.order.id) != 0) {
      created.push_back(p.order);
      p.done({InsertResult::Kind::created, std::move(p.order), {}});
    } else {
      p.done(resolve_conflict(p));
    }
  }
  if (!created.empty()) on_created_(created);
}

InsertResult BatchWriter::resolve_conflict(Pending& p) {
  try {
    auto existing = repository_.find_by_key(p.order.user_id, p.order.idempotency_key);
    if (!existing) return {InsertResult::Kind::unavailable, {}, "the order for this key vanished; retry"};
    if (existing->request_hash != p.order.request_hash) return {InsertResult::Kind::key_reused, std::move(*existing), {}};
    return {InsertResult::Kind::replayed, std::move(*existing), {}};
  } catch (const db::DbError& e) {
    return {InsertResult::Kind::unavailable, {}, e.what()};
  }
}

}  // namespace mambogo::order
