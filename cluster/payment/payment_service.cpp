#include "payment/payment_service.h"

#include <random>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/json_body.h"
#include "schema/payment.h"

namespace mambogo::payment {

using runtime::Request;
using runtime::Response;
namespace auth = runtime::auth;
using std::chrono::milliseconds;

namespace {

Response unavailable_database(const db::DbError& e, const Request& r) {
  return Response::error(503, "database_unavailable", e.what(), r.request_id).with_header("Retry-After", "1");
}

// Storage outages are 503 with Retry-After, not 500: the request may simply be retried.
template <class F>
runtime::Handler guarded(F&& body) {
  return [body = std::forward<F>(body)](const Request& r) -> Response {
    try {
      return body(r);
    } catch (const db::DbError& e) {
      if (e.kind() == db::DbErrorKind::connection_lost || e.kind() == db::DbErrorKind::timeout)
        return unavailable_database(e, r);
      throw;
    }
  };
}

bool is_service_or_admin(const auth::Identity& id) {
  return id.has_role(auth::kRoleService) || id.has_role(auth::kRoleAdmin);
}

ChargeUpdate to_update(const ProviderAnswer& answer) {
  ChargeUpdate u;
  u.attempts_added = answer.attempts;
  u.provider_reference = answer.reference;
  switch (answer.kind) {
    case ProviderAnswer::Kind::captured: u.status = PaymentStatus::captured; break;
    case ProviderAnswer::Kind::declined:
      u.status = PaymentStatus::declined;
      u.failure_reason = answer.reason;
      break;
    case ProviderAnswer::Kind::unavailable:
      u.status = PaymentStatus::pending;
      u.failure_reason = answer.reason;
      break;
  }
  return u;
}

Response declined(const PaymentRecord& p, const Request& r) {
  return Response::error(402, "payment_declined",
                         "the payment for order " + p.order_id + " was declined (" + p.failure_reason + ")",
                         r.request_id);
}

}  // namespace

PaymentSettings read_payment_settings(runtime::Config& c) {
  PaymentSettings s;
  auto& p = s.provider;
  p.latency_p50_ms = c.number("PROVIDER_LATENCY_P50_MS", 50, 0, 60'000, "simulated provider: median latency (ms; 0 = none)");
  p.latency_p99_ms = c.number("PROVIDER_LATENCY_P99_MS", 250, 0, 60'000, "simulated provider: 99th percentile latency (ms, log-normal; <= p50 = fixed)");
  p.failure_rate = c.number("PROVIDER_FAILURE_RATE", 0, 0, 1, "simulated provider: share of calls that fail (errors, retried)");
  p.decline_rate = c.number("PROVIDER_DECLINE_RATE", 0, 0, 1, "simulated provider: share of charges declined (402)");
  p.outage = c.boolean("PROVIDER_OUTAGE", false, "simulated provider: every call fails");
  p.outage_mode = c.choice("PROVIDER_OUTAGE_MODE", "fail", {"fail", "hang"},
                           "during an outage calls fail at once, or hang until the time limit") == "hang"
                      ? OutageMode::hang
                      : OutageMode::fail;
  s.provider_seed = static_cast<std::uint64_t>(c.integer("PROVIDER_SEED", 0, 0, INT64_MAX, "simulated provider: random seed (0 = random)"));
  auto& o = s.client;
  o.timeout = c.duration("PROVIDER_TIMEOUT", milliseconds(1'000), milliseconds(1), milliseconds(60'000), "time limit of one provider call");
  o.max_attempts = static_cast<int>(c.integer("PROVIDER_RETRY_MAX_ATTEMPTS", 3, 1, 10, "provider calls per request, the first included"));
  o.retry_wait = c.duration("PROVIDER_RETRY_WAIT", milliseconds(200), milliseconds(1), milliseconds(60'000), "first retry backoff (x1.5 each retry, +-50% jitter)");
  o.breaker_window_size = static_cast<int>(c.integer("PROVIDER_BREAKER_WINDOW_SIZE", 20, 1, 10'000, "circuit breaker: calls in the sliding window"));
  o.breaker_minimum_calls = static_cast<int>(c.integer("PROVIDER_BREAKER_MINIMUM_CALLS", 10, 1, 10'000, "circuit breaker: calls before the failure rate counts"));
  o.breaker_failure_rate = static_cast<float>(c.number("PROVIDER_BREAKER_FAILURE_RATE", 50, 1, 100, "circuit breaker: failure rate (percent) that opens it"));
  o.breaker_wait_in_open = c.duration("PROVIDER_BREAKER_WAIT_IN_OPEN", milliseconds(10'000), milliseconds(1), milliseconds(3'600'000), "circuit breaker: time OPEN before probing");
  o.breaker_half_open_calls = static_cast<int>(c.integer("PROVIDER_BREAKER_HALF_OPEN_CALLS", 3, 1, 1'000, "circuit breaker: probes in HALF_OPEN"));
  s.datasource = db::read_datasource_settings(c, "payment-service");
  s.keys = auth::read_key_set(c);
  return s;
}

PaymentService::PaymentService(runtime::Service& service, const PaymentSettings& settings)
    : verifier_(settings.keys),
      datasource_(std::make_unique<db::Datasource>(settings.datasource, schema::payment_migrations(),
                                                   &service.metrics(), &service.logger(), &service.health(),
                                                   &service.switches())),
      repository_(*datasource_),
      provider_(settings.provider, settings.provider_seed ? settings.provider_seed : std::random_device{}(),
                &service.metrics().registry()),
      client_(provider_, settings.client, runtime::system_clock(), &service.metrics().registry()) {
  auto& registry = service.metrics().registry();
  auto& payments = prometheus::BuildCounter()
                       .Name("payments_total")
                       .Help("POST /api/payments outcomes")
                       .Register(registry);
  captured_ = &payments.Add({{"status", "captured"}});
  declined_ = &payments.Add({{"status", "declined"}});
  unavailable_ = &payments.Add({{"status", "unavailable"}});
  replayed_ = &payments.Add({{"status", "replayed"}});
  processing_time_ = &prometheus::BuildHistogram()
                          .Name("payment_processing_time_seconds")
                          .Help("Time to process a payment that called the provider (retries included)")
                          .Register(registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                           1, 2.5, 5, 10});
  service.router()
      .add(runtime::Method::post, "/api/payments", guarded([this](const Request& r) { return create(r); }),
           runtime::Dispatch::blocking)
      .add(runtime::Method::get, "/api/payments/{orderId}", guarded([this](const Request& r) { return get(r); }),
           runtime::Dispatch::blocking);
  service.health().add_check(
      "payment-provider",
      [this] {
        const auto snapshot = client_.breaker().snapshot();
        const bool open = snapshot.state == runtime::CircuitState::open ||
                          snapshot.state == runtime::CircuitState::forced_open;
        runtime::CheckResult result;
        result.status = open ? runtime::HealthStatus::degraded : runtime::HealthStatus::up;
        result.details = {{"circuitBreaker", runtime::to_string(snapshot.state)},
                          {"failureRate", snapshot.failure_rate},
                          {"outage", provider_.profile().outage}};
        return result;
      },
      false);
  add_switches(service.switches());
  service.set_admin_guard(auth::admin_guard(verifier_));
}

PaymentService::~PaymentService() = default;

void PaymentService::add_switches(runtime::RuntimeSettings& s) {
  s.add_number("provider.latency-p50-ms", "simulated provider: median latency in ms", 0, 60'000,
               [this] { return provider_.profile().latency_p50_ms; },
               [this](double v) { provider_.set_latency(v, provider_.profile().latency_p99_ms); });
  s.add_number("provider.latency-p99-ms", "simulated provider: 99th percentile latency in ms (<= p50: fixed)", 0,
               60'000, [this] { return provider_.profile().latency_p99_ms; },
               [this](double v) { provider_.set_latency(provider_.profile().latency_p50_ms, v); });
  s.add_number("provider.failure-rate", "simulated provider: share of calls that fail (0..1)", 0, 1,
               [this] { return provider_.profile().failure_rate; },
               [this](double v) { provider_.set_failure_rate(v); });
  s.add_number("provider.decline-rate", "simulated provider: share of charges declined (0..1)", 0, 1,
               [this] { return provider_.profile().decline_rate; },
               [this](double v) { provider_.set_decline_rate(v); });
  s.add_bool("provider.outage", "simulated provider: every call fails (see provider.outage-mode)",
             [this] { return provider_.profile().outage; }, [this](bool v) { provider_.set_outage(v); });
  s.add_choice("provider.outage-mode", "during an outage calls fail at once (fail) or hang until the time limit (hang)",
               {"fail", "hang"}, [this] { return std::string(to_string(provider_.profile().outage_mode)); },
               [this](const std::string& v) { provider_.set_outage_mode(v == "hang" ? OutageMode::hang : OutageMode::fail); });
}

Response PaymentService::answer_existing(const PaymentRecord& record, const Request& r) {
  if (record.status == PaymentStatus::declined) return declined(record, r);
  replayed_->Increment();
  return Response::json(200, to_json(record).dump());
}

Response PaymentService::create(const Request& r) {
  Response denied;
  auto caller = auth::authenticate(verifier_, r, denied);
  if (!caller) return denied;
  if (!is_service_or_admin(*caller))
    return Response::error(403, "forbidden", "POST /api/payments needs the service or admin role", r.request_id);
  Response bad;
  auto body = runtime::parse_json_object(r, bad);
  if (!body) return bad;
  auto parsed = parse_payment_request(*body);
  if (auto* e = std::get_if<RequestError>(&parsed)) return Response::error(400, "bad_request", e->message, r.request_id);
  const auto& request = std::get<PaymentRequest>(parsed);

  const auto started = std::chrono::steady_clock::now();
  PaymentRecord record = repository_.insert_or_get(request, new_uuid(), utc_now_iso());
  if (auto fields = mismatched_fields(record, request); !fields.empty())
    return Response::error(409, "payment_conflict",
                           "order " + request.order_id + " already has a payment with another " + fields,
                           r.request_id);
  if (record.status != PaymentStatus::pending) return answer_existing(record, r);

  auto guard = order_locks_.lock(request.order_id);
  std::optional<ProviderAnswer> answer;
  record = repository_.charge_locked(
      request.order_id,
      [&](const PaymentRecord& current) -> std::optional<ChargeUpdate> {
        if (current.status != PaymentStatus::pending) return std::nullopt;  // charged meanwhile
        answer = client_.charge({current.order_id, current.amount_cents, current.currency});
        return to_update(*answer);
      },
      utc_now_iso);
  if (!answer) return answer_existing(record, r);
  processing_time_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  switch (answer->kind) {
    case ProviderAnswer::Kind::captured:
      captured_->Increment();
      return Response::json(201, to_json(record).dump()).with_header("Location", "/api/payments/" + record.order_id);
    case ProviderAnswer::Kind::declined:
      declined_->Increment();
      return declined(record, r);
    case ProviderAnswer::Kind::unavailable:
      break;
  }
  unavailable_->Increment();
  return Response::error(503, "payment_unavailable",
                         "the payment provider is unavailable (" + answer->reason + "); nothing was charged, retry later",
                         r.request_id)
      .with_header("Retry-After", std::to_string(answer->retry_after.count()));
}

Response PaymentService::get(const Request& r) {
  Response denied;
  auto caller = auth::authenticate(verifier_, r, denied);
  if (!caller) return denied;
  auto order_id = canonical_uuid(r.path_param("orderId"));
  if (!order_id) return Response::error(400, "bad_request", "orderId must be a UUID", r.request_id);
  auto record = repository_.find(*order_id);
  if (!record || (!is_service_or_admin(*caller) && record->user_id != caller->subject))
    return Response::error(404, "not_found", "no payment for order " + *order_id, r.request_id);
  return Response::json(200, to_json(*record).dump());
}

}  // namespace mambogo::payment
