// The payment provider, simulated inside payment-service so that drills can make it slow,
// flaky, declining or dead at run time, and tests can make it do exactly the same thing twice.
//
// A charge behaves like a call to a card processor that honours idempotency keys, as Stripe
// does:
//   outage on, mode fail   the call fails at once (connection refused); nothing is charged.
//   outage on, mode hang   the call hangs until the caller's timeout; nothing is charged.
//   failure (failure_rate) the call fails after its latency; nothing is charged.
//   otherwise              the provider decides (decline_rate) and remembers the answer under the
//                          idempotency key; the answer reaches the caller after the latency, or
//                          the caller's timeout passes first (timed_out) — the charge has then
//                          happened although the caller did not hear of it. A later call with the
//                          same key gets the remembered answer (replayed) and charges nothing.
// So a key is charged at most once, whatever the caller retries.
//
// Latency: log-normal with the given median (p50) and 99th percentile (p99):
//   mu = ln(p50), sigma = (ln(p99) - ln(p50)) / 2.3263 (z of 0.99); p99 <= p50 gives a fixed
//   p50; p50 = 0 gives no latency. Draws come from a std::mt19937_64 seeded at construction,
//   turned into uniforms as (rng() >> 11) * 2^-53 and into normals by Box-Muller, so a seed
//   gives the same sequence of latencies, failures, declines and references on every platform
//   (given the same sequence of calls). Every charge draws its latency, failure and decline
//   numbers whatever happens to it (a new capture or decline one more, for its reference), so
//   switching a rate at run time does not shift the draws of the calls that follow.
//
// Remembered keys: at most max_remembered_keys (oldest forgotten first), like a provider's
// bounded idempotency window (Stripe: 24 h).
//
// Metrics (registry may be null): provider_charges_total{result=captured|declined|replayed|error}
// (captured/declined: charges the provider made; replayed: answers from the idempotency store;
// error: calls that charged nothing — failures and outages).
//
// Thread-safety: every member may be called from any thread; draws and the key store are
// guarded by one mutex, never held while a call sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::payment {

enum class OutageMode { fail, hang };
std::string_view to_string(OutageMode mode);  // "fail" | "hang"

struct ProviderProfile {
  double latency_p50_ms = 50;
  double latency_p99_ms = 250;
  double failure_rate = 0;  // [0, 1]: share of calls that fail (errors, retried by the caller)
  double decline_rate = 0;  // [0, 1]: share of charges declined (a business answer)
  bool outage = false;
  OutageMode outage_mode = OutageMode::fail;
};

struct ChargeRequest {
  std::string idempotency_key;  // payment-service uses the orderId
  std::int64_t amount_cents = 0;
  std::string currency;
};

enum class ChargeOutcome {
  captured,   // charged
  declined,   // refused by the issuer; terminal
  failed,     // provider error or outage; nothing charged
  timed_out,  // no answer within the caller's timeout (it may have been charged)
};
std::string_view to_string(ChargeOutcome outcome);

struct ChargeResult {
  ChargeOutcome outcome = ChargeOutcome::failed;
  std::string reference;  // captured/declined: the provider's charge id ("ch_...")
  std::string reason;     // declined: "card_declined"; failed: "provider_error" | "provider_outage";
                          // timed_out: "provider_timeout"
  bool replayed = false;  // answered from the idempotency store
};

class ProviderSimulator {
 public:
  // Throws std::invalid_argument for a profile out of range.
  ProviderSimulator(ProviderProfile profile, std::uint64_t seed, prometheus::Registry* registry,
                    std::size_t max_remembered_keys = 100'000);
  ProviderSimulator(const ProviderSimulator&) = delete;
  ProviderSimulator& operator=(const ProviderSimulator&) = delete;

  // One call to the provider; blocks for its latency, at most `timeout` (real time).
  ChargeResult charge(const ChargeRequest& request, std::chrono::nanoseconds timeout);

  // One latency drawn from the current distribution (two draws; charges nothing): for tests
  // of the distribution.
  std::chrono::nanoseconds sample_latency();

  ProviderProfile profile() const;
  // Each throws std::invalid_argument for a value out of range (nothing changes then).
  void set_latency(double p50_ms, double p99_ms);
  void set_failure_rate(double rate);
  void set_decline_rate(double rate);
  void set_outage(bool on);
  void set_outage_mode(OutageMode mode);

  struct Stats {
    std::uint64_t captured = 0;
    std::uint64_t declined = 0;
    std::uint64_t replayed = 0;
    std::uint64_t errors = 0;
  };
  Stats stats() const;

 private:
  struct Remembered {
    ChargeOutcome outcome;
    std::string reference;
  };
  double uniform_locked();
  std::chrono::nanoseconds latency_locked();
  std::string reference_locked();
  void remember_locked(const std::string& key, Remembered answer);

  // Constant after construction.
  const std::size_t max_remembered_keys_;
  prometheus::Counter* captured_counter_ = nullptr;
  prometheus::Counter* declined_counter_ = nullptr;
  prometheus::Counter* replayed_counter_ = nullptr;
  prometheus::Counter* error_counter_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  ProviderProfile profile_;
  std::mt19937_64 rng_;
  std::unordered_map<std::string, Remembered> remembered_;
  std::deque<std::string> remembered_order_;  // oldest first
  Stats stats_;
};

// Throws std::invalid_argument naming the field when a value is out of range.
void validate(const ProviderProfile& profile);

}  // namespace mambogo::payment
