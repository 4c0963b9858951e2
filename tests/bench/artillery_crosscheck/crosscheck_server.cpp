// mambogo-crosscheck-server: the HTTP server both load clients of the Artillery cross-check
// drive. It answers every request of the seed's Artillery plan (resources/scenarios/
// artillery-load-test.yml) the way the shop's API would answer a valid one, checks what the
// API checks, and counts what it received, so its count is the referee between the clients:
//   POST /api/orders          401 without a bearer token, 400 without X-Idempotency-Key or
//                             with a body that is not {"items": [{productId: UUID, quantity:
//                             1..99}, ...]} (quantity may be a numeric string, as the shop
//                             accepts); else 201 {"orderId": UUID, "status": "PENDING"}
//   GET  /api/orders/{id}     401 without a token; 200 for an id it issued, else 404
//   GET  /api/products        200, a page of 20 products
//   GET  /api/products/{id}   200 {"id": id, ...} for any UUID, 400 otherwise
//   GET  /stats               {"METHOD /route": {"STATUS": count}}; POST /stats/reset zeroes it
// Every answer but /stats is held for CROSSCHECK_DELAY_MS (default 0), a known service time.
//
// Environment: SERVER_ADDRESS (127.0.0.1), SERVER_PORT (0: a free port), CROSSCHECK_DELAY_MS.
// Prints {"msg":"started","port":N} on stdout once listening; stops on SIGTERM or SIGINT.
// Thread-safety: handlers run on the I/O thread; the record is guarded by a mutex; held
// responses are released by one timer thread (Responder::send may be called from any thread).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

using namespace mambogo::runtime;
using nlohmann::json;

namespace {

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-') || (!dash && !std::isxdigit(static_cast<unsigned char>(s[i])))) return false;
  }
  return true;
}

std::optional<long> quantity_of(const json& q) {
  if (q.is_number_integer()) return q.get<long>();
  if (!q.is_string()) return std::nullopt;
  const auto& s = q.get_ref<const std::string&>();
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0') return std::nullopt;
  return v;
}

// What is wrong with an order body, or empty.
std::string order_problem(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "the body is not a JSON object";
  auto items = j.find("items");
  if (items == j.end() || !items->is_array() || items->empty()) return "items must be a non-empty array";
  for (const auto& item : *items) {
    if (!item.is_object() || !item.contains("productId") || !item["productId"].is_string() ||
        !is_uuid(item["productId"].get<std::string>()))
      return "items[].productId must be a UUID";
    auto q = item.contains("quantity") ? quantity_of(item["quantity"]) : std::nullopt;
    if (!q || *q < 1 || *q > 99) return "items[].quantity must be an integer from 1 to 99";
  }
  return {};
}

// Holds responses for a fixed time, then sends them, on one thread of its own.
class Delayer {
 public:
  explicit Delayer(std::chrono::milliseconds delay) : delay_(delay) {
    if (delay_.count() > 0) thread_ = std::thread([this] { loop(); });
  }
  ~Delayer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void send(Responder responder, Response response) {
    if (delay_.count() == 0) return responder.send(std::move(response));
    std::lock_guard lock(mutex_);
    held_.emplace(std::chrono::steady_clock::now() + delay_, Held{std::move(responder), std::move(response)});
    wake_.notify_all();
  }

 private:
  struct Held {
    Responder responder;
    Response response;
  };
  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_ || !held_.empty()) {
      if (held_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = held_.begin();
      if (!stopping_ && first->first > std::chrono::steady_clock::now()) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      Held h = std::move(first->second);
      held_.erase(first);
      lock.unlock();
      h.responder.send(std::move(h.response));
      lock.lock();
    }
  }
  const std::chrono::milliseconds delay_;
  std::mutex mutex_;  // guards held_ and stopping_
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Held> held_;
  bool stopping_ = false;
  std::thread thread_;
};

class Shop {
 public:
  explicit Shop(std::chrono::milliseconds delay) : delayer_(delay) {}

  void install(Router& router) {
    router.add_async(Method::post, "/api/orders", [this](const Request& r, Responder out) {
      answer("POST /api/orders", std::move(out), create_order(r));
    });
    router.add_async(Method::get, "/api/orders/{id}", [this](const Request& r, Responder out) {
      answer("GET /api/orders/{id}", std::move(out), read_order(r));
    });
    router.add_async(Method::get, "/api/products", [this](const Request&, Responder out) {
      answer("GET /api/products", std::move(out), Response::json(200, listing_));
    });
    router.add_async(Method::get, "/api/products/{id}", [this](const Request& r, Responder out) {
      auto id = r.path_param("id");
      answer("GET /api/products/{id}", std::move(out),
             is_uuid(id) ? Response::json(200, json{{"id", id}, {"name", "Product"}, {"priceCents", 1999}}.dump())
                         : Response::error(400, "bad_request", "the product id must be a UUID", r.request_id));
    });
    router.add(Method::get, "/stats", [this](const Request&) {
      std::lock_guard lock(mutex_);
      return Response::json(200, json(counts_).dump());
    });
    router.add(Method::post, "/stats/reset", [this](const Request&) {
      std::lock_guard lock(mutex_);
      counts_.clear();
      return Response::json(200, "{}");
    });
  }

 private:
  void answer(const std::string& route, Responder out, Response response) {
    {
      std::lock_guard lock(mutex_);
      ++counts_[route][std::to_string(response.status)];
    }
    delayer_.send(std::move(out), std::move(response));
  }

  static bool authorized(const Request& r) {
    auto a = r.header("Authorization");
    return a && a->starts_with("Bearer ") && a->size() > 7;
  }

  Response create_order(const Request& r) {
    if (!authorized(r)) return Response::error(401, "unauthorized", "a bearer token is required", r.request_id);
    auto key = r.header("X-Idempotency-Key");
    if (!key || key->empty())
      return Response::error(400, "missing_idempotency_key", "the X-Idempotency-Key header is required",
                             r.request_id);
    if (auto problem = order_problem(r.body); !problem.empty())
      return Response::error(400, "bad_request", problem, r.request_id);
    std::lock_guard lock(mutex_);
    std::string id = new_uuid();
    orders_.insert(id);
    return Response::json(201, json{{"orderId", id}, {"status", "PENDING"}}.dump());
  }

  Response read_order(const Request& r) {
    if (!authorized(r)) return Response::error(401, "unauthorized", "a bearer token is required", r.request_id);
    std::lock_guard lock(mutex_);
    if (!orders_.count(std::string(r.path_param("id"))))
      return Response::error(404, "not_found", "no such order", r.request_id);
    return Response::json(200, json{{"orderId", r.path_param("id")}, {"status", "PENDING"}}.dump());
  }

  std::string new_uuid() {  // guarded by mutex_
    static constexpr char hex[] = "0123456789abcdef";
    std::string s = "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx";
    for (auto& c : s)
      if (c == 'x') c = hex[rng_() & 15];
    return s;
  }

  static std::string make_listing() {
    json content = json::array();
    for (int i = 0; i < 20; ++i) {
      char id[37];
      std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i + 1);
      content.push_back({{"id", id}, {"name", "Product " + std::to_string(i + 1)}, {"stockQuantity", 100}});
    }
    return json{{"content", content}, {"page", 0}, {"size", 20}, {"totalElements", 20}}.dump();
  }

  Delayer delayer_;
  const std::string listing_ = make_listing();
  std::mutex mutex_;  // guards the members below
  std::map<std::string, std::map<std::string, std::int64_t>> counts_;
  std::set<std::string> orders_;
  std::mt19937_64 rng_{std::random_device{}()};
};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

int main() {
  try {
    const long delay_ms = std::stol(env_or("CROSSCHECK_DELAY_MS", "0"));
    if (delay_ms < 0 || delay_ms > 10'000) throw std::invalid_argument("CROSSCHECK_DELAY_MS must be 0..10000");
    Shop shop{std::chrono::milliseconds(delay_ms)};
    Router router;
    shop.install(router);
    ServerOptions options;
    options.address = env_or("SERVER_ADDRESS", "127.0.0.1");
    options.port = static_cast<std::uint16_t>(std::stoi(env_or("SERVER_PORT", "0")));
    options.access_log = false;
    MetricsRegistry metrics;
    Logger logger{"crosscheck-server", LogLevel::off};
    HttpServer server(options, router, nullptr, metrics, logger);
    server.start();
    std::cout << json{{"msg", "started"}, {"port", server.port()}}.dump() << std::endl;
    server.wait_for_signal();
    server.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mambogo-crosscheck-server: " << e.what() << "\n";
    return 1;
  }
}
