// A real HTTP server (the runtime's HttpServer on a free loopback port, in this process) with
// the routes the load-engine tests drive, and a record of what it received:
//   GET  /hello                 "ok"
//   GET  /stall                 "ok", but held while a stall is on (stall_for), like wrk2's
//                               example of a server pausing
//   POST /api/orders            {"orderId": "o-N"}; records headers and body
//   GET  /api/orders/{id}       200 for ids this server issued, 404 otherwise
//   GET  /api/products          [{"id": "p-1"}, ...]
//   GET  /api/products/{id}     200 {"id": ...}
//   GET  /a, /b                 counted (scenario weights)
// Thread-safety: handlers run on the server's I/O threads; the record is guarded by mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

namespace mambogo::test {

class LoadTestServer {
 public:
  LoadTestServer() {
    using namespace mambogo::runtime;
    router_
        .add(Method::get, "/hello",
             [this](const Request&) { return count("/hello"), Response::text(200, "ok"); })
        .add(Method::get, "/a", [this](const Request&) { return count("/a"), Response::text(200, "a"); })
        .add(Method::get, "/b", [this](const Request&) { return count("/b"), Response::text(200, "b"); })
        .add(Method::post, "/api/orders",
             [this](const Request& r) {
               std::lock_guard lock(mutex_);
               ++hits_["POST /api/orders"];
               std::string id = "o-" + std::to_string(++next_order_);
               orders_.insert(id);
               order_bodies.push_back(r.body);
               if (auto k = r.header("X-Idempotency-Key")) idempotency_keys.insert(std::string(*k));
               if (auto a = r.header("Authorization")) authorizations.insert(std::string(*a));
               if (auto c = r.header("Content-Type")) content_types.insert(std::string(*c));
               return Response::json(201, "{\"orderId\":\"" + id + "\",\"status\":\"PENDING\"}");
             })
        .add(Method::get, "/api/orders/{id}",
             [this](const Request& r) {
               std::lock_guard lock(mutex_);
               ++hits_["GET /api/orders/{id}"];
               bool known = orders_.count(std::string(r.path_param("id")));
               if (!known) ++unknown_order_reads;
               return known ? Response::json(200, "{\"status\":\"PENDING\"}")
                            : Response::error(404, "not_found", "no such order");
             })
        .add(Method::get, "/api/products",
             [this](const Request&) {
               count("GET /api/products");
               return Response::json(200, R"([{"id":"p-1"},{"id":"p-2"}])");
             })
        .add(Method::get, "/api/products/{id}",
             [this](const Request& r) {
               count("GET /api/products/{id}");
               return Response::json(200, "{\"id\":\"" + std::string(r.path_param("id")) + "\"}");
             })
        .add_async(Method::get, "/stall", [this](const Request&, Responder responder) {
          count("/stall");
          std::unique_lock lock(mutex_);
          if (!stalled_) {
            lock.unlock();
            responder.send(Response::text(200, "ok"));
            return;
          }
          held_.push_back(std::move(responder));
        });
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.access_log = false;
    options.io_threads = 1;
    server_ = std::make_unique<HttpServer>(options, router_, nullptr, metrics_, logger_);
    server_->start();
  }

  ~LoadTestServer() {
    if (staller_.joinable()) staller_.join();
    release();
    server_->stop();
  }

  std::uint16_t port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // From `after` on, /stall holds every response for `length`, then answers them all.
  void stall_for(std::chrono::milliseconds after, std::chrono::milliseconds length) {
    if (after.count() == 0) {
      std::lock_guard lock(mutex_);
      stalled_ = true;  // already on when this returns
    }
    staller_ = std::thread([this, after, length] {
      std::this_thread::sleep_for(after);
      {
        std::lock_guard lock(mutex_);
        stalled_ = true;
      }
      std::this_thread::sleep_for(length);
      release();
    });
  }

  std::int64_t hits(const std::string& route) {
    std::lock_guard lock(mutex_);
    return hits_[route];
  }
  std::chrono::steady_clock::duration first_to_last(const std::string& route) {
    std::lock_guard lock(mutex_);
    return last_[route] - first_[route];
  }

  std::mutex mutex_;  // guards everything below and the handlers' bookkeeping
  std::vector<std::string> order_bodies;
  std::set<std::string> idempotency_keys, authorizations, content_types;
  std::int64_t unknown_order_reads = 0;

 private:
  void count(const std::string& route) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (!hits_[route]++) first_[route] = now;
    last_[route] = now;
  }
  void release() {
    std::vector<runtime::Responder> held;
    {
      std::lock_guard lock(mutex_);
      stalled_ = false;
      held.swap(held_);
    }
    for (auto& r : held) r.send(runtime::Response::text(200, "ok"));
  }

  runtime::Router router_;
  runtime::MetricsRegistry metrics_;
  runtime::Logger logger_{"load-test", runtime::LogLevel::off};
  std::unique_ptr<runtime::HttpServer> server_;
  std::map<std::string, std::int64_t> hits_;
  std::map<std::string, std::chrono::steady_clock::time_point> first_, last_;
  std::set<std::string> orders_;
  std::int64_t next_order_ = 0;
  bool stalled_ = false;
  std::vector<runtime::Responder> held_;
  std::thread staller_;
};

}  // namespace mambogo::test
