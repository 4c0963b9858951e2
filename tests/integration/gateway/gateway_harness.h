// What the gateway's integration tests stand on: in-process upstream services on real sockets
// (runtime HttpServer, behaviour switchable while running), the mambogo-gateway binary as a real
// process, a key set on disk with tokens of every kind (valid, expired, forged, wrong audience,
// alg none), and a /metrics reader. Header-only; each test file includes it once.
#pragma once

#include <QtTest>

#include <openssl/evp.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "raw_http.h"
#include "runtime/auth/token.h"
#include "runtime/executor.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

namespace gwtest {

using namespace mambogo;
using namespace std::chrono_literals;
using mambogo::test::RawResponse;
using mambogo::test::http_request;

// An upstream service: answers every path with a JSON echo of what it received, unless told to
// fail or wait. Query parameters shape the answer: cc=<Cache-Control>, etag=<ETag>.
class TestUpstream {
 public:
  explicit TestUpstream(std::string name)
      : name_(std::move(name)),
        executor_(runtime::ExecutorOptions{"upstream", 8, 32, 100, std::chrono::milliseconds(60'000),
                                           runtime::RejectionPolicy::caller_runs},
                  nullptr),
        logger_(name_, runtime::LogLevel::off) {
    for (auto m : {runtime::Method::get, runtime::Method::post, runtime::Method::put,
                   runtime::Method::patch, runtime::Method::delete_, runtime::Method::options})
      router_.add(m, "/**", [this](const runtime::Request& r) { return answer(r); },
                  runtime::Dispatch::blocking);
    runtime::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.access_log = false;
    server_ = std::make_unique<runtime::HttpServer>(o, router_, &executor_, metrics_, logger_);
    server_->start();
  }
  ~TestUpstream() { server_->stop(); }

  int port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  const std::string& name() const { return name_; }

  std::atomic<int> hits{0};
  std::atomic<int> fail_status{0};  // nonzero: every request gets this status
  std::atomic<int> fail_next{0};    // the next N requests get 503
  std::atomic<int> delay_ms{0};

 private:
  runtime::Response answer(const runtime::Request& r) {
    hits.fetch_add(1);
    if (int d = delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (fail_next.load() > 0 && fail_next.fetch_sub(1) > 0)
      return runtime::Response::error(503, "unavailable", "failing on purpose", r.request_id);
    if (int s = fail_status.load(); s != 0)
      return runtime::Response::error(s, "failing", "failing on purpose", r.request_id);
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& h : r.headers) {
      std::string lower = h.name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[lower] = h.value;
    }
    auto res = runtime::Response::json(
        200, nlohmann::json{{"server", name_}, {"method", r.method_token}, {"target", r.target},
                            {"headers", headers}, {"body", r.body}}
                 .dump());
    if (auto cc = r.query_param("cc")) res.headers.push_back({"Cache-Control", *cc});
    if (auto etag = r.query_param("etag")) res.headers.push_back({"ETag", *etag});
    return res;
  }

  const std::string name_;
  runtime::Router router_;
  runtime::BoundedExecutor executor_;
  runtime::MetricsRegistry metrics_;
  runtime::Logger logger_;
  std::unique_ptr<runtime::HttpServer> server_;
};

inline std::string base64url(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

// A key set written to a temporary AUTH_KEYS_FILE, and tokens good and bad.
class Keys {
 public:
  Keys() : set_(runtime::auth::KeySet::generate()) {
    path_ = dir_.filePath("keys.json").toStdString();
    std::ofstream(path_) << set_.to_json();
  }
  const std::string& path() const { return path_; }

  std::string token(const std::string& sub, std::vector<std::string> roles = {"user"},
                    std::chrono::seconds ttl = std::chrono::hours(1)) const {
    return issue(set_, sub, std::move(roles), ttl, std::chrono::system_clock::now());
  }
  std::string expired(const std::string& sub) const {
    return issue(set_, sub, {"user"}, std::chrono::hours(1),
                 std::chrono::system_clock::now() - std::chrono::hours(2));
  }
  // Same kids, other key material: the signature cannot verify.
  std::string forged(const std::string& sub) const {
    runtime::auth::KeySet other = runtime::auth::KeySet::generate();
    runtime::auth::KeySet forged = set_;
    for (auto& k : forged.keys)
      for (const auto& o : other.keys)
        if (o.algorithm == k.algorithm) {
          const std::string kid = k.kid;
          k = o;
          k.kid = kid;
        }
    return issue(forged, sub, {"user"}, std::chrono::hours(1), std::chrono::system_clock::now());
  }
  std::string wrong_audience(const std::string& sub) const {
    runtime::auth::KeySet other = set_;
    other.audience = "someone-else";
    return issue(other, sub, {"user"}, std::chrono::hours(1), std::chrono::system_clock::now());
  }
  std::string alg_none(const std::string& sub) const {
    const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                         (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
                         .count();
    const std::string kid = set_.signing_kid.empty() ? set_.keys.front().kid : set_.signing_kid;
    return base64url(nlohmann::json{{"alg", "none"}, {"typ", "JWT"}, {"kid", kid}}.dump()) + "." +
           base64url(nlohmann::json{{"sub", sub}, {"roles", {"user", "admin"}}, {"exp", exp},
                                    {"iss", set_.issuer}, {"aud", set_.audience}}
                         .dump()) +
           ".";
  }

 private:
  static std::string issue(const runtime::auth::KeySet& set, const std::string& sub,
                           std::vector<std::string> roles, std::chrono::seconds ttl,
                           std::chrono::system_clock::time_point now) {
    runtime::auth::TokenRequest r;
    r.subject = sub;
    r.roles = std::move(roles);
    r.ttl = ttl;
    r.now = now;
    return runtime::auth::TokenIssuer(set).issue(r);
  }

  QTemporaryDir dir_;
  runtime::auth::KeySet set_;
  std::string path_;
};

inline std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

// mambogo-gateway as a child process on a free port.
class GatewayProcess {
 public:
  GatewayProcess(const std::map<QString, QString>& env) {
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert("SERVER_PORT", "0");
    e.insert("SERVER_ADDRESS", "127.0.0.1");
    e.insert("ACCESS_LOG", "false");
    e.insert("GATEWAY_ACCESS_LOG", "false");
    for (const auto& [k, v] : env) e.insert(k, v);
    process.setProcessEnvironment(e);
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(MAMBOGO_GATEWAY_BINARY, QStringList{});
  }
  ~GatewayProcess() {
    if (process.state() != QProcess::NotRunning) {
      process.kill();
      process.waitForFinished(5000);
    }
  }
  // Waits for the "started" line; the port, or 0 (the output is then in `output`).
  int wait_started() {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 15'000) {
      while (process.canReadLine()) {
        QByteArray line = process.readLine();
        output += line;
        auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (!j.is_discarded() && j.value("msg", "") == "started") return port = j["port"].get<int>();
      }
      if (!process.waitForReadyRead(200) && process.state() == QProcess::NotRunning) {
        output += process.readAll();
        return 0;
      }
    }
    return 0;
  }
  QByteArray drain_output() {
    process.waitForReadyRead(50);
    output += process.readAll();
    return output;
  }

  std::optional<RawResponse> get(const std::string& target, const std::string& headers = {}) const {
    return http_request(port, "GET", target, {}, headers);
  }

  QProcess process;
  QByteArray output;
  int port = 0;
};

// The value of the first /metrics series of `family` whose labels include every `k="v"` given;
// -1 when absent.
inline double scrape(int port, const std::string& family, const std::vector<std::string>& labels = {}) {
  auto r = http_request(port, "GET", "/metrics");
  if (!r || r->status != 200) return -1;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(family) || (line.size() > family.size() && line[family.size()] != '{' &&
                                      line[family.size()] != ' '))
      continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

inline nlohmann::json body_json(const std::optional<RawResponse>& r) {
  return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
}

// Every service variable pointing at the given upstream.
inline std::map<QString, QString> all_services(const TestUpstream& u, const Keys& keys) {
  const QString url = QString::fromStdString(u.url());
  return {{"AUTH_KEYS_FILE", QString::fromStdString(keys.path())},
          {"PRODUCT_SERVICE_URL", url},
          {"CART_SERVICE_URL", url},
          {"ORDER_SERVICE_URL", url},
          {"PAYMENT_SERVICE_URL", url}};
}

}  // namespace gwtest
