#include "payment/provider_simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace mambogo::payment {
namespace {

constexpr double kZ99 = 2.3263478740408408;  // standard normal quantile of 0.99
constexpr double kMaxLatencyMs = 60'000;
constexpr double kPi = 3.14159265358979323846;

void check_rate(const char* name, double rate) {
  if (!(rate >= 0 && rate <= 1)) throw std::invalid_argument(std::string(name) + " must be in [0, 1]");
}

void check_latency(double p50, double p99) {
  if (!(p50 >= 0 && p50 <= kMaxLatencyMs)) throw std::invalid_argument("latency p50 must be 0..60000 ms");
  if (!(p99 >= 0 && p99 <= kMaxLatencyMs)) throw std::invalid_argument("latency p99 must be 0..60000 ms");
}

}  // namespace

std::string_view to_string(OutageMode mode) { return mode == OutageMode::fail ? "fail" : "hang"; }

std::string_view to_string(ChargeOutcome outcome) {
  switch (outcome) {
    case ChargeOutcome::captured: return "captured";
    case ChargeOutcome::declined: return "declined";
    case ChargeOutcome::failed: return "failed";
    case ChargeOutcome::timed_out: return "timed_out";
  }
  return "failed";
}

void validate(const ProviderProfile& p) {
  check_latency(p.latency_p50_ms, p.latency_p99_ms);
  check_rate("failure rate", p.failure_rate);
  check_rate("decline rate", p.decline_rate);
}

ProviderSimulator::ProviderSimulator(ProviderProfile profile, std::uint64_t seed,
                                     prometheus::Registry* registry, std::size_t max_remembered_keys)
    : max_remembered_keys_(std::max<std::size_t>(1, max_remembered_keys)), profile_(profile), rng_(seed) {
  validate(profile);
  if (registry) {
    auto& family = prometheus::BuildCounter()
                       .Name("provider_charges_total")
                       .Help("Calls to the payment provider by what the provider did")
                       .Register(*registry);
    captured_counter_ = &family.Add({{"result", "captured"}});
    declined_counter_ = &family.Add({{"result", "declined"}});
    replayed_counter_ = &family.Add({{"result", "replayed"}});
    error_counter_ = &family.Add({{"result", "error"}});
  }
}

double ProviderSimulator::uniform_locked() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

std::chrono::nanoseconds ProviderSimulator::latency_locked() {
  // Both uniforms are drawn whatever the profile, so the sequence never depends on it.
  const double u1 = uniform_locked();
  const double u2 = uniform_locked();
  const double p50 = profile_.latency_p50_ms;
  if (p50 <= 0) return std::chrono::nanoseconds(0);
  double ms = p50;
  if (profile_.latency_p99_ms > p50) {
    const double sigma = (std::log(profile_.latency_p99_ms) - std::log(p50)) / kZ99;
    const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * kPi * u2);
    ms = std::exp(std::log(p50) + sigma * z);
  }
  ms = std::min(ms, kMaxLatencyMs);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ms * 1e6));
}

std::string ProviderSimulator::reference_locked() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "ch_%016llx", static_cast<unsigned long long>(rng_()));
  return buf;
}

void ProviderSimulator::remember_locked(const std::string& key, Remembered answer) {
  remembered_.emplace(key, std::move(answer));
  remembered_order_.push_back(key);
  while (remembered_order_.size() > max_remembered_keys_) {
    remembered_.erase(remembered_order_.front());
    remembered_order_.pop_front();
  }
}

std::chrono::nanoseconds ProviderSimulator::sample_latency() {
  std::lock_guard lock(mutex_);
  return latency_locked();
}

ChargeResult ProviderSimulator::charge(const ChargeRequest& request, std::chrono::nanoseconds timeout) {
  ChargeResult result;
  std::chrono::nanoseconds latency{0};
  prometheus::Counter* counter = error_counter_;
  {
    std::lock_guard lock(mutex_);
    latency = latency_locked();
    const bool fails = uniform_locked() < profile_.failure_rate;
    const bool declines = uniform_locked() < profile_.decline_rate;
    if (profile_.outage) {
      ++stats_.errors;
      if (profile_.outage_mode == OutageMode::fail) latency = std::chrono::nanoseconds(0);
      else latency = timeout;  // hangs: the caller's limit ends it
      result.outcome = ChargeOutcome::failed;
      result.reason = "provider_outage";
    } else if (fails) {
      ++stats_.errors;
      result.outcome = ChargeOutcome::failed;
      result.reason = "provider_error";
    } else if (auto it = remembered_.find(request.idempotency_key); it != remembered_.end()) {
      ++stats_.replayed;
      counter = replayed_counter_;
      result = {it->second.outcome, it->second.reference,
                it->second.outcome == ChargeOutcome::declined ? "card_declined" : "", true};
    } else {
      const ChargeOutcome outcome = declines ? ChargeOutcome::declined : ChargeOutcome::captured;
      if (declines) {
        ++stats_.declined;
        counter = declined_counter_;
      } else {
        ++stats_.captured;
        counter = captured_counter_;
      }
      result = {outcome, reference_locked(), declines ? "card_declined" : "", false};
      remember_locked(request.idempotency_key, {outcome, result.reference});
    }
  }
  if (counter) counter->Increment();
  if (latency >= timeout) {
    std::this_thread::sleep_for(std::max(timeout, std::chrono::nanoseconds(0)));
    // The provider may have charged; the caller will not know until it asks again.
    return {ChargeOutcome::timed_out, {}, "provider_timeout", false};
  }
  std::this_thread::sleep_for(latency);
  return result;
}

ProviderProfile ProviderSimulator::profile() const {
  std::lock_guard lock(mutex_);
  return profile_;
}

void ProviderSimulator::set_latency(double p50_ms, double p99_ms) {
  check_latency(p50_ms, p99_ms);
  std::lock_guard lock(mutex_);
  profile_.latency_p50_ms = p50_ms;
  profile_.latency_p99_ms = p99_ms;
}

void ProviderSimulator::set_failure_rate(double rate) {
  check_rate("failure rate", rate);
  std::lock_guard lock(mutex_);
  profile_.failure_rate = rate;
}

void ProviderSimulator::set_decline_rate(double rate) {
  check_rate("decline rate", rate);
  std::lock_guard lock(mutex_);
  profile_.decline_rate = rate;
}

void ProviderSimulator::set_outage(bool on) {
  std::lock_guard lock(mutex_);
  profile_.outage = on;
}

void ProviderSimulator::set_outage_mode(OutageMode mode) {
  std::lock_guard lock(mutex_);
  profile_.outage_mode = mode;
}

ProviderSimulator::Stats ProviderSimulator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace mambogo::payment
