// payment-service: what it adds to a runtime::Service (cluster/README.md, "payment-service").
//
//   POST /api/payments            (service or admin role) idempotent by orderId:
//        201 charged now (+ Location) · 200 charged before (the same payment) · 402 payment_declined
//        (terminal, the record says DECLINED) · 503 payment_unavailable + Retry-After (provider
//        failing or breaker open; the record stays PENDING and a retry with the same orderId
//        works) · 409 payment_conflict (the orderId has a payment with another amount, user or
//        currency) · 400 bad_request naming the field · 401 / 403.
//   GET  /api/payments/{orderId}  the payment, to its owner (sub == userId), a service or an
//        admin; anyone else gets 404, as for a payment that does not exist.
//
// How a charge happens at most once per order: the first request inserts the PENDING row
// (unique order_id); every charge runs with that row locked (KeyedMutex in the process, and
// SELECT ... FOR UPDATE on PostgreSQL across processes), re-reads it, and calls the provider
// only while it is still PENDING, with the orderId as idempotency key — so even a charge that
// timed out after the provider took it is answered, not repeated, on the next attempt.
//
// Configuration (besides the runtime's, DB_* and AUTH_*): PROVIDER_* (profile, seed, time
// limit, retry, breaker; `--help` lists them). Run-time switches: provider.latency-p50-ms,
// provider.latency-p99-ms, provider.failure-rate, provider.decline-rate, provider.outage,
// provider.outage-mode. Health: "payment-provider" (non-critical: DEGRADED while the breaker
// is open), plus the datasource's "db" / "db-replica".
// Metrics: payments_total{status=captured|declined|unavailable|replayed},
// payment_processing_time_seconds (histogram, requests that called the provider),
// provider_charges_total{result}, resilience4j_* of the provider client, the datasource's.
//
// Ownership: borrows the Service, which must outlive it; owns the datasource, the provider
// and its client. Construct after Config::finish(), before Service::start(); destroy after
// the service has drained. Thread-safety: handlers run on the service's bounded executor.
#pragma once

#include <cstdint>
#include <memory>

#include "payment/keyed_mutex.h"
#include "payment/payment_repository.h"
#include "payment/provider_client.h"
#include "payment/provider_simulator.h"
#include "runtime/auth/token.h"
#include "runtime/db/datasource.h"
#include "runtime/service.h"

namespace prometheus {
class Counter;
class Histogram;
}  // namespace prometheus

namespace mambogo::payment {

struct PaymentSettings {
  ProviderProfile provider;
  std::uint64_t provider_seed = 0;  // 0: a random seed
  ProviderClientOptions client;
  db::DatasourceSettings datasource;
  runtime::auth::KeySet keys;
};

// Declares and reads every payment-service variable; problems are left in config.
PaymentSettings read_payment_settings(runtime::Config& config);

class PaymentService {
 public:
  // Opens the datasource (throws db::DbError / SchemaTooNewError when it cannot) and adds the
  // routes, switches and health check to `service`.
  PaymentService(runtime::Service& service, const PaymentSettings& settings);
  ~PaymentService();
  PaymentService(const PaymentService&) = delete;
  PaymentService& operator=(const PaymentService&) = delete;

 private:
  runtime::Response create(const runtime::Request& request);
  runtime::Response get(const runtime::Request& request);
  // A payment no longer PENDING: 402 when declined, else 200 with it (a replay).
  runtime::Response answer_existing(const PaymentRecord& record, const runtime::Request& request);
  void add_switches(runtime::RuntimeSettings& switches);

  // Constant after construction.
  runtime::auth::TokenVerifier verifier_;
  std::unique_ptr<db::Datasource> datasource_;
  PaymentRepository repository_;
  ProviderSimulator provider_;
  ProviderClient client_;
  prometheus::Counter* captured_ = nullptr;
  prometheus::Counter* declined_ = nullptr;
  prometheus::Counter* unavailable_ = nullptr;
  prometheus::Counter* replayed_ = nullptr;
  prometheus::Histogram* processing_time_ = nullptr;

  KeyedMutex order_locks_;  // thread-safe by itself
};

}  // namespace mambogo::payment
