// What the product-service integration tests share: the real mambogo-product process (its
// log in a file, so a full pipe can never stall it), a client over real sockets that adds
// bearer tokens, tokens issued with the secret the process is given, a /metrics reader, and
// the oracle: the seed generator, which tells exactly which products a fresh catalogue holds.
//
// Thread-safety: ProductProcess and Tokens from the test thread; Client::request() from any
// thread (each request opens its own connection).
#pragma once

#include <QtTest>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "product/seed_data.h"
#include "raw_http.h"
#include "runtime/auth/token.h"

namespace product_test {

using mambogo::test::RawResponse;

inline const QString kSecret = QStringLiteral("product-integration-secret-0123456789abcdef");

using Env = std::map<QString, QString>;

// mambogo-product with the given environment on a free loopback port.
class ProductProcess {
 public:
  explicit ProductProcess(const Env& env) {
    dir_ = std::make_unique<QTemporaryDir>();
    log_path_ = dir_->filePath("product.log");
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert("SERVER_PORT", "0");
    e.insert("SERVER_ADDRESS", "127.0.0.1");
    e.insert("ACCESS_LOG", "false");
    e.insert("AUTH_HS256_SECRET", kSecret);
    e.insert("DATA_DIR", dir_->path());
    for (const auto& [k, v] : env) e.insert(k, v);
    process_.setProcessEnvironment(e);
    process_.setStandardOutputFile(log_path_);
    process_.setStandardErrorFile(log_path_, QIODevice::Append);
    process_.start(MAMBOGO_PRODUCT_BINARY, QStringList{});
  }
  ~ProductProcess() { stop(); }

  // The port from the "started" log line, or 0 when the process exited or `limit` passed.
  int wait_started(std::chrono::milliseconds limit = std::chrono::seconds(120)) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < limit.count()) {
      for (const auto& line : log_lines()) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.is_object() && j.value("msg", "") == "started") return port_ = j["port"].get<int>();
      }
      if (process_.state() == QProcess::NotRunning || process_.waitForFinished(100)) return 0;
    }
    return 0;
  }

  // SIGTERM and wait (bounded), then SIGKILL. Returns the exit code, -1 if it had to be killed.
  int stop() {
    if (process_.state() == QProcess::NotRunning) return process_.exitCode();
    process_.terminate();
    if (process_.waitForFinished(15'000)) return process_.exitCode();
    process_.kill();
    process_.waitForFinished(5'000);
    return -1;
  }

  std::vector<std::string> log_lines() const {
    std::vector<std::string> out;
    QFile f(log_path_);
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : f.readAll().split('\n'))
      if (!line.isEmpty()) out.push_back(line.toStdString());
    return out;
  }
  std::string log_tail(std::size_t n = 20) const {
    auto lines = log_lines();
    std::string out;
    for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += lines[i] + "\n";
    return out;
  }

  int port() const { return port_; }
  QString data_dir() const { return dir_->path(); }
  QProcess& process() { return process_; }

 private:
  std::unique_ptr<QTemporaryDir> dir_;
  QString log_path_;
  QProcess process_;
  int port_ = 0;
};

class Tokens {
 public:
  Tokens() : issuer_(keys()) {}
  std::string issue(const std::string& subject, std::vector<std::string> roles) const {
    mambogo::runtime::auth::TokenRequest r;
    r.subject = subject;
    r.roles = std::move(roles);
    return issuer_.issue(r);
  }
  std::string user() const { return issue("user-1", {"user"}); }
  std::string service() const { return issue("order-service", {"service"}); }
  std::string admin() const { return issue("admin-1", {"admin"}); }

 private:
  static mambogo::runtime::auth::KeySet keys() {
    mambogo::runtime::auth::KeySet k;
    k.keys.push_back({"default", mambogo::runtime::auth::KeyAlgorithm::hs256, kSecret.toStdString(), "", ""});
    return k;
  }
  mambogo::runtime::auth::TokenIssuer issuer_;
};

class Client {
 public:
  explicit Client(int port) : port_(port) {}
  // status 0 when no response came back.
  RawResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                      const std::string& token = {}) const {
    std::string headers;
    if (!token.empty()) headers += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty()) headers += "Content-Type: application/json\r\n";
    auto r = mambogo::test::http_request(port_, method, target, body, headers);
    return r ? *r : RawResponse{};
  }
  RawResponse get(const std::string& target, const std::string& token = {}) const {
    return request("GET", target, {}, token);
  }
  RawResponse post(const std::string& target, const nlohmann::json& body, const std::string& token) const {
    return request("POST", target, body.dump(), token);
  }
  nlohmann::json get_json(const std::string& target, const std::string& token = {}) const {
    return nlohmann::json::parse(get(target, token).body, nullptr, false);
  }
  // PATCH /admin/settings.
  RawResponse set(const nlohmann::json& changes, const std::string& admin_token) const {
    return request("PATCH", "/admin/settings", changes.dump(), admin_token);
  }
  // One sample of /metrics: the first line of `name` carrying every `labels` pair; -1 if none.
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    const std::string text = get("/metrics").body;
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(at, end - at);
      at = end + 1;
      if (line.rfind(name, 0) != 0 || (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' '))
        continue;
      bool match = true;
      for (const auto& [k, v] : labels) match = match && line.find(k + "=\"" + v + "\"") != std::string::npos;
      if (match) return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return -1;
  }
  int port() const { return port_; }

 private:
  int port_;
};

inline nlohmann::json reserve_body(const std::string& order_id,
                                   const std::vector<std::pair<std::string, int>>& lines) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [product, quantity] : lines) items.push_back({{"productId", product}, {"quantity", quantity}});
  return {{"orderId", order_id}, {"items", items}};
}

// A fresh random-looking v4 UUID, different on every call (the test's own order ids).
inline std::string new_order_id() {
  return QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString();
}

}  // namespace product_test
