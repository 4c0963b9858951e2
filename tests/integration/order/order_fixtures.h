// What the order-service tests (integration, crash, bench) stand on:
//   FakeUpstreams  product-service's inventory endpoints and payment-service's payments on
//                  one real runtime::HttpServer (127.0.0.1, free port), with the contract's
//                  semantics (reserve all-or-nothing and idempotent by orderId, release gives
//                  back once, charge at most once per orderId), controllable answers and
//                  delays, and per-order call counts. Requires a service token (403 otherwise).
//   OrderProcess   mambogo-order (or another service) as a real child process; stdout goes to a file (so a busy
//                  service never blocks on a full pipe), the "started" line gives the port;
//                  kill() is SIGKILL.
//   Tokens and a tiny HTTP helper over raw_http.
//
// Thread-safety: FakeUpstreams' members may be called from any thread; OrderProcess from the
// test thread only.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>

#include "raw_http.h"

namespace mambogo::testing {
class PgCluster;
}
namespace mambogo::runtime {
class BoundedExecutor;
class HttpServer;
class Logger;
class MetricsRegistry;
class Router;
struct Request;
struct Response;
namespace auth {
class TokenIssuer;
class TokenVerifier;
}  // namespace auth
}  // namespace mambogo::runtime

namespace mambogo::test {

inline constexpr const char* kAuthSecret = "order-tests-secret-0123456789abcdef";

// A JWT for `subject` with `role` ("user", "admin", "service"), signed with kAuthSecret.
std::string token_for(const std::string& subject, const std::string& role = "user");

class FakeUpstreams {
 public:
  enum class Payment { capture, unavailable, decline };

  FakeUpstreams();
  ~FakeUpstreams();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void add_product(const std::string& id, int stock, std::int64_t price_cents);
  int stock(const std::string& id);
  void set_payment(Payment mode) { payment_ = mode; }
  void set_payment_delay(std::chrono::milliseconds d) { payment_delay_ms_ = static_cast<int>(d.count()); }
  // The reservation happens when the request arrives; the answer comes after the delay.
  void set_reserve_delay(std::chrono::milliseconds d) { reserve_delay_ms_ = static_cast<int>(d.count()); }

  struct Counts {
    int reserve_calls = 0;
    int release_calls = 0;
    int charge_calls = 0;
    int charges = 0;            // effective charges (at most one per orderId)
    bool holds_stock = false;   // a reservation is active now
  };
  Counts counts(const std::string& order_id);
  int total_reserve_calls();
  int forbidden_calls() const { return forbidden_.load(); }

 private:
  struct Reservation {
    std::vector<std::pair<std::string, int>> items;
    bool active = false;
    int status = 0;
    std::string answer;
  };
  runtime::Response reserve(const runtime::Request& r);
  runtime::Response release(const runtime::Request& r);
  runtime::Response pay(const runtime::Request& r);
  bool service_caller(const runtime::Request& r);

  std::unique_ptr<runtime::auth::TokenVerifier> verifier_;
  std::unique_ptr<runtime::MetricsRegistry> metrics_;
  std::unique_ptr<runtime::Logger> logger_;
  std::unique_ptr<runtime::Router> router_;
  std::unique_ptr<runtime::BoundedExecutor> executor_;
  std::unique_ptr<runtime::HttpServer> server_;
  int port_ = 0;
  std::atomic<Payment> payment_{Payment::capture};
  std::atomic<int> payment_delay_ms_{0};
  std::atomic<int> reserve_delay_ms_{0};
  std::atomic<int> forbidden_{0};

  std::mutex mutex_;  // guards the maps below
  std::map<std::string, int> stock_;
  std::map<std::string, std::int64_t> price_;
  std::map<std::string, Reservation> reservations_;
  std::map<std::string, Counts> counts_;
  std::map<std::string, std::pair<int, std::string>> payments_;  // orderId -> first answer
};

class OrderProcess {
 public:
  // env: "NAME=value" entries on top of SERVER_PORT=0, loopback, auth, no access log.
  // binary: mambogo-order unless another service binary is named (the end-to-end test).
  explicit OrderProcess(QStringList env, QString binary = {});
  ~OrderProcess();
  // Starts (again) and waits for the "started" line; returns the port, 0 on failure.
  int start();
  void kill();        // SIGKILL, waits for it to die
  bool terminate();   // SIGTERM; true when it exited 0 within 30 s
  int port() const { return port_; }
  std::string log() const;  // everything it wrote so far (every start appends)

 private:
  QStringList env_;
  QString binary_;
  QString log_path_;
  QProcess process_;
  int port_ = 0;
};

// A fresh, empty database per call, as OrderProcess environment: "sqlite" (a file in a
// private temp dir) or "postgres" (CREATE DATABASE on a PostgreSQL primary + streaming replica
// started on first use, with DB_REPLICA_URL pointing at the replica).
class Databases {
 public:
  Databases();
  ~Databases();
  static bool postgres_available();
  QStringList fresh(const QString& backend);

 private:
  QTemporaryDir dir_;
  std::unique_ptr<testing::PgCluster> pg_;
  int next_ = 0;
};

struct Http {
  int status = 0;
  nlohmann::json json;  // parsed body (discarded when not JSON)
  std::string body;
  std::map<std::string, std::string> headers;
};
// One request with a bearer token; extra headers as "Name: value\r\n" lines.
Http http(int port, const std::string& method, const std::string& target, const std::string& token,
          const std::string& body = {}, const std::string& extra_headers = {});

// The value of a metric line "name{labels} value" (exact series text), or -1.
double metric(const std::string& exposition, const std::string& series);

// Polls `done` every 50 ms until it holds or `limit` passes.
template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace mambogo::test
