#include "order_fixtures.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <csignal>
#include <sstream>
#include <thread>

#include "pg_cluster.h"
#include "runtime/auth/token.h"
#include "runtime/db/pg_connection.h"
#include "runtime/executor.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

namespace mambogo::test {
namespace {

using runtime::Request;
using runtime::Response;

runtime::auth::KeySet test_keys() {
  runtime::auth::KeySet keys;
  keys.keys.push_back({"default", runtime::auth::KeyAlgorithm::hs256, kAuthSecret, "", ""});
  return keys;
}

std::optional<nlohmann::json> json_of(const Request& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("orderId") || !j["orderId"].is_string()) return std::nullopt;
  return j;
}

}  // namespace

std::string token_for(const std::string& subject, const std::string& role) {
  static const runtime::auth::TokenIssuer issuer(test_keys());
  runtime::auth::TokenRequest r;
  r.subject = subject;
  r.roles = {role};
  return issuer.issue(r);
}

FakeUpstreams::FakeUpstreams()
    : verifier_(std::make_unique<runtime::auth::TokenVerifier>(test_keys())),
      metrics_(std::make_unique<runtime::MetricsRegistry>()),
      logger_(std::make_unique<runtime::Logger>("fake-upstreams", runtime::LogLevel::off)),
      router_(std::make_unique<runtime::Router>()) {
  router_->add(runtime::Method::post, "/api/inventory/reserve", [this](const Request& r) { return reserve(r); },
               runtime::Dispatch::blocking);
  router_->add(runtime::Method::post, "/api/inventory/release", [this](const Request& r) { return release(r); },
               runtime::Dispatch::blocking);
  router_->add(runtime::Method::post, "/api/payments", [this](const Request& r) { return pay(r); },
               runtime::Dispatch::blocking);
  runtime::ExecutorOptions ex;
  ex.name = "fake";
  // A thread for every concurrent (slow) answer, and a real queue: with queue capacity 0 the
  // runtime's executor never hands work to its idle threads above core, and soon caller-runs
  // on the I/O thread, which stalls every connection (see the order helper's report).
  ex.core_threads = 128;
  ex.max_threads = 128;
  ex.queue_capacity = 1000;
  executor_ = std::make_unique<runtime::BoundedExecutor>(ex, nullptr);
  runtime::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.access_log = false;
  server_ = std::make_unique<runtime::HttpServer>(options, *router_, executor_.get(), *metrics_, *logger_);
  server_->start();
  port_ = server_->port();
}

FakeUpstreams::~FakeUpstreams() {
  server_->stop();
  executor_->shutdown();
}

void FakeUpstreams::add_product(const std::string& id, int stock, std::int64_t price_cents) {
  std::lock_guard lock(mutex_);
  stock_[id] = stock;
  price_[id] = price_cents;
}

int FakeUpstreams::stock(const std::string& id) {
  std::lock_guard lock(mutex_);
  return stock_.at(id);
}

FakeUpstreams::Counts FakeUpstreams::counts(const std::string& order_id) {
  std::lock_guard lock(mutex_);
  Counts c = counts_[order_id];
  auto it = reservations_.find(order_id);
  c.holds_stock = it != reservations_.end() && it->second.active;
  return c;
}

int FakeUpstreams::total_reserve_calls() {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [id, c] : counts_) n += c.reserve_calls;
  return n;
}

bool FakeUpstreams::service_caller(const Request& r) {
  const auto v = verifier_->verify(r);
  if (v && v.identity->has_role(runtime::auth::kRoleService)) return true;
  ++forbidden_;
  return false;
}

Response FakeUpstreams::reserve(const Request& r) {
  if (!service_caller(r)) return Response::error(403, "forbidden", "service role required");
  const auto body = json_of(r);
  if (!body || !(*body).contains("items")) return Response::error(400, "bad_request", "orderId and items required");
  const std::string order_id = (*body)["orderId"];
  std::pair<int, std::string> answer;
  {
    std::lock_guard lock(mutex_);
    ++counts_[order_id].reserve_calls;
    auto known = reservations_.find(order_id);
    if (known != reservations_.end()) {
      answer = {known->second.status, known->second.answer};
    } else {
      Reservation res;
      nlohmann::json items = nlohmann::json::array();
      std::int64_t total = 0;
      for (const auto& i : (*body)["items"]) {
        const std::string pid = i["productId"];
        const int qty = i["quantity"];
        if (!stock_.count(pid)) {
          res.status = 422;
          res.answer = Response::error(422, "unknown_product", "unknown product " + pid).body;
          break;
        }
        if (stock_[pid] < qty) {
          res.status = 409;
          res.answer = Response::error(409, "insufficient_stock", "not enough stock of " + pid).body;
          break;
        }
        res.items.emplace_back(pid, qty);
        items.push_back({{"productId", pid}, {"quantity", qty}, {"unitPrice", price_[pid] / 100.0}});
        total += price_[pid] * qty;
      }
      if (res.status == 0) {
        for (const auto& [pid, qty] : res.items) stock_[pid] -= qty;
        res.active = true;
        res.status = 200;
        res.answer = nlohmann::json{{"orderId", order_id}, {"reserved", true}, {"items", items}, {"totalAmount", total / 100.0}}.dump();
      }
      answer = {res.status, res.answer};
      reservations_[order_id] = std::move(res);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(reserve_delay_ms_.load()));
  return Response::json(answer.first, answer.second);
}

Response FakeUpstreams::release(const Request& r) {
  if (!service_caller(r)) return Response::error(403, "forbidden", "service role required");
  const auto body = json_of(r);
  if (!body) return Response::error(400, "bad_request", "orderId required");
  const std::string order_id = (*body)["orderId"];
  std::lock_guard lock(mutex_);
  ++counts_[order_id].release_calls;
  bool released = false;
  auto it = reservations_.find(order_id);
  if (it != reservations_.end() && it->second.active) {
    for (const auto& [pid, qty] : it->second.items) stock_[pid] += qty;
    it->second.active = false;
    released = true;
  }
  return Response::json(200, nlohmann::json{{"orderId", order_id}, {"released", released}}.dump());
}

Response FakeUpstreams::pay(const Request& r) {
  if (!service_caller(r)) return Response::error(403, "forbidden", "service role required");
  const auto body = json_of(r);
  if (!body) return Response::error(400, "bad_request", "orderId required");
  const std::string order_id = (*body)["orderId"];
  {
    std::lock_guard lock(mutex_);
    ++counts_[order_id].charge_calls;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(payment_delay_ms_.load()));
  const Payment mode = payment_.load();
  std::lock_guard lock(mutex_);
  auto known = payments_.find(order_id);
  if (known != payments_.end()) return Response::json(known->second.first == 201 ? 200 : known->second.first, known->second.second);
  if (mode == Payment::unavailable)
    return Response::error(503, "payment_unavailable", "provider down").with_header("Retry-After", "1");
  std::pair<int, std::string> answer;
  if (mode == Payment::decline) {
    answer = {402, Response::error(402, "payment_declined", "card declined").body};
  } else {
    ++counts_[order_id].charges;
    answer = {201, nlohmann::json{{"paymentId", "pay-" + order_id},
                                  {"orderId", order_id},
                                  {"userId", (*body).value("userId", "")},
                                  {"status", "CAPTURED"},
                                  {"amount", (*body).value("amount", 0.0)},
                                  {"currency", "USD"},
                                  {"attempts", 1},
                                  {"createdAt", "2026-01-01T00:00:00.000Z"}}
                       .dump()};
  }
  payments_[order_id] = answer;
  return Response::json(answer.first, answer.second);
}

OrderProcess::OrderProcess(QStringList env, QString binary)
    : env_(std::move(env)), binary_(binary.isEmpty() ? QString(MAMBOGO_ORDER_BINARY) : std::move(binary)) {
  static int counter = 0;
  log_path_ = QDir::tempPath() + QString("/mambogo-order-%1-%2.log").arg(::getpid()).arg(++counter);
  QFile::remove(log_path_);
}

OrderProcess::~OrderProcess() {
  if (process_.state() != QProcess::NotRunning) kill();
  QFile::remove(log_path_);
}

int OrderProcess::start() {
  QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
  e.insert("SERVER_PORT", "0");
  e.insert("SERVER_ADDRESS", "127.0.0.1");
  e.insert("AUTH_HS256_SECRET", kAuthSecret);
  e.insert("ACCESS_LOG", "false");
  for (const auto& kv : env_) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
  process_.setProcessEnvironment(e);
  process_.setStandardOutputFile(log_path_, QIODevice::Append);
  process_.setStandardErrorFile(log_path_, QIODevice::Append);
  const std::size_t skip = log().size();
  process_.start(binary_, {});
  port_ = 0;
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < 20'000 && process_.state() != QProcess::NotRunning) {
    std::istringstream lines(log().substr(skip));
    for (std::string line; std::getline(lines, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("msg", "") == "started") return port_ = j["port"].get<int>();
    }
    process_.waitForFinished(50);
  }
  return 0;
}

void OrderProcess::kill() {
  process_.kill();
  process_.waitForFinished(10'000);
}

bool OrderProcess::terminate() {
  ::kill(static_cast<pid_t>(process_.processId()), SIGTERM);
  return process_.waitForFinished(30'000) && process_.exitStatus() == QProcess::NormalExit && process_.exitCode() == 0;
}

std::string OrderProcess::log() const {
  QFile f(log_path_);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll().toStdString();
}

Databases::Databases() = default;
Databases::~Databases() = default;

bool Databases::postgres_available() { return testing::PgCluster::available(); }

QStringList Databases::fresh(const QString& backend) {
  const std::string name = "orders_" + std::to_string(++next_);
  if (backend == "sqlite") return {"DB_URL=sqlite:" + dir_.path() + "/" + QString::fromStdString(name) + ".db"};
  if (!pg_) pg_ = std::make_unique<testing::PgCluster>();
  db::PgConnection admin(pg_->primary_conninfo());
  admin.execute_script("CREATE DATABASE " + name);
  auto with_db = [&](std::string conninfo) {
    return QString::fromStdString(conninfo.replace(conninfo.find("dbname=postgres"), 15, "dbname=" + name));
  };
  return {"DB_URL=" + with_db(pg_->primary_conninfo()), "DB_REPLICA_URL=" + with_db(pg_->replica_conninfo())};
}

Http http(int port, const std::string& method, const std::string& target, const std::string& token,
          const std::string& body, const std::string& extra_headers) {
  std::string headers = extra_headers;
  if (!token.empty()) headers += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() && extra_headers.find("Content-Type") == std::string::npos) headers += "Content-Type: application/json\r\n";
  Http out;
  std::optional<RawResponse> r;
  try {
    r = http_request(port, method, target, body, headers);
  } catch (const std::exception&) {
    return out;  // could not connect: status 0
  }
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  out.json = nlohmann::json::parse(r->body, nullptr, false);
  return out;
}

double metric(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);)
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace mambogo::test
