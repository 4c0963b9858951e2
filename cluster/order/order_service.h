// order-service wired from configuration: storage (runtime/db Datasource with the order
// schema), identity (runtime/auth), the two resilient upstreams, the batch writer, the
// processor, the routes, the health check and the run-time switches.
//
// Configuration (environment, or --kebab-case options), besides the runtime's SERVER_*,
// EXECUTOR_*, DB_*, AUTH_*:
//   PRODUCT_SERVICE_URL (http://127.0.0.1:8081)  PAYMENT_SERVICE_URL (http://127.0.0.1:8084)
//   ORDER_EXPIRY (15m)             a PENDING order older than this expires, stock released
//   ORDER_BATCH_SIZE (50)          insert batch (hibernate.jdbc.batch_size); switch order.batch-size
//   ORDER_BATCH_LINGER (2ms)       how long a batch waits for company
//   ORDER_BATCH_WRITERS (0 = auto: 1 on SQLite, 4 on PostgreSQL)
//   ORDER_PROCESSING_ENABLED (true)  switch order.processing.enabled
//   ORDER_PROCESSING_CORE_SIZE / _MAX_SIZE / _QUEUE_CAPACITY (10 / 50 / 100): the processing
//                                  executor (caller-runs), the seed's orderProcessingExecutor
//   ORDER_PROCESSING_LEASE (30s)   a pass's hold on an order; after a crash its orders wait
//                                  this long before another pass (or a restart) takes them
//   ORDER_SWEEP_INTERVAL (1s), ORDER_RETRY_INITIAL (1s), ORDER_RETRY_MAX (60s)
//   INVENTORY_* / PAYMENT_*        resilience of each upstream (upstream.h); the payment
//                                  time limiter defaults to 5 s, as payment-service itself
//                                  retries its provider within a 1 s limiter.
//
// Lifetime: construct in setup (before Service::start()), start() after it, stop() after
// Service::run_until_signal() and before the Service is destroyed.
// Thread-safety: construct, start and stop from the main thread.
#pragma once

#include <memory>

#include "runtime/service.h"

namespace mambogo::order {

class OrderService {
 public:
  // Reads the configuration; unless --help was asked or a value is invalid (ConfigError),
  // opens the database (migrating it) and installs routes, switches and health checks.
  explicit OrderService(runtime::Service& service);
  ~OrderService();

  bool built() const { return parts_ != nullptr; }
  void start();  // resumes processing
  void stop();   // the writer first (answers what is queued), then the processor

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace mambogo::order
