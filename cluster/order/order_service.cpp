#include "order/order_service.h"

#include "order/batch_writer.h"
#include "order/order_api.h"
#include "order/order_metrics.h"
#include "order/order_processor.h"
#include "order/order_repository.h"
#include "order/upstream.h"
#include "runtime/auth/token.h"
#include "runtime/db/datasource.h"
#include "runtime/http_client.h"
#include "schema/order.h"

namespace mambogo::order {
namespace {

using std::chrono::milliseconds;

struct OrderSettings {
  std::string product_url;
  std::string payment_url;
  milliseconds expiry{};
  BatchSettings batch;
  ProcessorSettings processing;
  ResilienceSettings inventory;
  ResilienceSettings payment;
};

OrderSettings read_order_settings(runtime::Config& c, db::Dialect dialect) {
  OrderSettings s;
  s.product_url = c.string("PRODUCT_SERVICE_URL", "http://127.0.0.1:8081", "product-service (inventory) base URL");
  s.payment_url = c.string("PAYMENT_SERVICE_URL", "http://127.0.0.1:8084", "payment-service base URL");
  s.expiry = c.duration("ORDER_EXPIRY", milliseconds(15 * 60'000), milliseconds(100), milliseconds(7 * 24 * 3'600'000LL),
                        "a PENDING order older than this expires and its stock is released");
  s.batch.batch_size = static_cast<int>(c.integer("ORDER_BATCH_SIZE", 50, 1, BatchWriter::kMaxBatchSize,
                                                  "orders per insert batch (hibernate.jdbc.batch_size); 1 = no batching"));
  s.batch.max_linger = c.duration("ORDER_BATCH_LINGER", milliseconds(2), milliseconds(0), milliseconds(1'000),
                                   "how long a batch waits for more orders after its first");
  const auto writers = c.integer("ORDER_BATCH_WRITERS", 0, 0, 64, "threads committing batches; 0 = 1 on SQLite, 4 on PostgreSQL");
  s.batch.writers = writers > 0 ? static_cast<int>(writers) : dialect == db::Dialect::sqlite ? 1 : 4;
  auto& p = s.processing;
  p.enabled = c.boolean("ORDER_PROCESSING_ENABLED", true, "process orders (false holds them PENDING, as a drill)");
  p.executor.core_threads = static_cast<int>(c.integer("ORDER_PROCESSING_CORE_SIZE", 10, 1, 1000, "order processing threads kept"));
  p.executor.max_threads = static_cast<int>(c.integer("ORDER_PROCESSING_MAX_SIZE", 50, 1, 1000, "order processing threads at most"));
  p.executor.queue_capacity = static_cast<int>(c.integer("ORDER_PROCESSING_QUEUE_CAPACITY", 100, 0, 100'000,
                                                         "order passes that may wait for a thread (then caller-runs)"));
  if (p.executor.max_threads < p.executor.core_threads)
    c.report_invalid("ORDER_PROCESSING_MAX_SIZE", std::to_string(p.executor.max_threads), "at least ORDER_PROCESSING_CORE_SIZE");
  p.lease = c.duration("ORDER_PROCESSING_LEASE", milliseconds(30'000), milliseconds(100), milliseconds(3'600'000),
                       "a processing pass's hold on an order (others wait this long after a crash)");
  p.sweep_interval = c.duration("ORDER_SWEEP_INTERVAL", milliseconds(1'000), milliseconds(10), milliseconds(600'000),
                                "how often due, retried and expired orders are looked for");
  p.retry_initial = c.duration("ORDER_RETRY_INITIAL", milliseconds(1'000), milliseconds(1), milliseconds(600'000),
                               "first wait before an order's unavailable step is retried (doubles, jittered)");
  p.retry_max = c.duration("ORDER_RETRY_MAX", milliseconds(60'000), milliseconds(1), milliseconds(3'600'000),
                           "longest wait between an order's retries");
  s.inventory = read_resilience_settings(c, "INVENTORY", "inventory", ResilienceSettings{});
  ResilienceSettings payment_defaults;
  payment_defaults.timeout = milliseconds(5'000);
  s.payment = read_resilience_settings(c, "PAYMENT", "payment", payment_defaults);
  return s;
}

runtime::UpstreamOptions checked_upstream(runtime::Config& c, const char* variable, const std::string& name,
                                          const std::string& url) {
  try {
    return upstream_options(name, url);
  } catch (const std::invalid_argument&) {
    c.report_invalid(variable, url, "http://host:port");
    return upstream_options(name, "http://127.0.0.1:1");
  }
}

}  // namespace

struct OrderService::Parts {
  Parts(runtime::Service& service, const OrderSettings& s, const db::DatasourceSettings& ds,
        runtime::auth::KeySet keys, runtime::UpstreamOptions product, runtime::UpstreamOptions payment_upstream)
      : metrics(service.metrics().registry()),
        datasource(ds, schema::order_migrations(), &service.metrics(), &service.logger(), &service.health(),
                   &service.switches()),
        repository(datasource),
        verifier(keys),
        tokens(keys, service.name()),
        client(runtime::ClientOptions{1}, &service.metrics()),
        inventory(client, std::move(product), s.inventory, service.metrics(), runtime::system_clock()),
        payment(client, std::move(payment_upstream), s.payment, service.metrics(), runtime::system_clock()),
        processor(repository, inventory, payment, tokens, metrics, service.logger(), &service.metrics().registry(),
                  s.processing, system_wall_clock_ms),
        writer(repository, s.batch, metrics, service.logger(),
               [this](const std::vector<Order>& created) { processor.schedule(created); }),
        api(repository, writer, verifier, system_wall_clock_ms, s.expiry) {}

  OrderMetrics metrics;
  db::Datasource datasource;
  OrderRepository repository;
  runtime::auth::TokenVerifier verifier;
  ServiceTokens tokens;
  runtime::HttpClient client;
  ResilientClient inventory;
  ResilientClient payment;
  OrderProcessor processor;
  BatchWriter writer;  // after the processor: it hands created orders to it
  OrderApi api;
};

OrderService::OrderService(runtime::Service& service) {
  runtime::Config& config = service.config();
  auto ds = db::read_datasource_settings(config, "order-service");
  db::Dialect dialect = db::Dialect::sqlite;
  try {
    dialect = db::dialect_of(ds.url);
  } catch (const std::invalid_argument&) {
    // the datasource reports the URL itself when it opens it
  }
  const OrderSettings s = read_order_settings(config, dialect);
  auto keys = runtime::auth::read_key_set(config);
  auto product = checked_upstream(config, "PRODUCT_SERVICE_URL", "product-service", s.product_url);
  auto payment = checked_upstream(config, "PAYMENT_SERVICE_URL", "payment-service", s.payment_url);
  if (!service.ready_to_build()) return;
  parts_ = std::make_unique<Parts>(service, s, ds, std::move(keys), std::move(product), std::move(payment));
  Parts& p = *parts_;
  p.api.install(service.router());
  service.set_admin_guard(runtime::auth::admin_guard(p.verifier));
  service.switches().add_integer(
      "order.batch-size", "orders per insert batch (group commit); 1 turns batching off", 1, BatchWriter::kMaxBatchSize,
      [&p] { return std::int64_t{p.writer.batch_size()}; },
      [&p](std::int64_t v) { p.writer.set_batch_size(static_cast<int>(v)); });
  service.switches().add_bool(
      "order.processing.enabled", "process orders; false holds new ones PENDING (stock releases and expiry go on)",
      [&p] { return p.processor.enabled(); }, [&p](bool v) { p.processor.set_enabled(v); });
  // Drill 3: the sweep's partial index dropped and restored at run time (the getter asks the database).
  service.switches().add_bool(
      "db.index.pending-expired", "the sweep's partial index idx_orders_pending_expired; false drops it, true re-creates it",
      [&p] { return p.repository.sweep_index_exists(); },
      [&p](bool on) {
        p.repository.set_sweep_index(on);
        p.metrics.sweep_index(on, p.repository.sweep_index_scans());  // now, not at the next recount
      });
  service.health().add_check(
      "order-processing",
      [&p] {
        runtime::CheckResult r;
        const auto inventory = p.inventory.breaker().state();
        const auto payment = p.payment.breaker().state();
        const auto stats = p.processor.executor().stats();
        if (inventory == runtime::CircuitState::open || payment == runtime::CircuitState::open)
          r.status = runtime::HealthStatus::degraded;
        r.details = {{"enabled", p.processor.enabled()},
                     {"scheduled", p.processor.scheduled()},
                     {"executor", {{"active", stats.active}, {"queued", stats.queued}, {"poolSize", stats.pool_size}}},
                     {"inventoryBreaker", runtime::to_string(inventory)},
                     {"paymentBreaker", runtime::to_string(payment)},
                     {"batchSize", p.writer.batch_size()}};
        return r;
      },
      false);
}

OrderService::~OrderService() { stop(); }

void OrderService::start() {
  if (parts_) parts_->processor.start();
}

void OrderService::stop() {
  if (!parts_) return;
  // The requests are drained by now; what remains is the writer's last flush and a sweep that
  // may be in a query. When the cluster goes down PostgreSQL goes with us: fail those at once
  // rather than retry connecting for the pool's 30 s (and be SIGKILLed at the grace period).
  parts_->datasource.stop_retrying_connects();
  parts_->writer.stop();
  parts_->processor.stop();
}

}  // namespace mambogo::order
