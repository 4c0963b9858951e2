// Helpers for tests that start a real service binary (mambogo-payment, mambogo-cart, the
// whole shop in tests/e2e): the process on a free loopback port with its environment, tokens signed with
// the key the process is given, and one metric read from its /metrics text.
//
// Thread-safety: a ServiceProcess belongs to the test thread; Tokens and scrape() may be used
// from any thread.
#pragma once

#include <QElapsedTimer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>

#include <chrono>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "raw_http.h"
#include "runtime/auth/token.h"

namespace mambogo::test {

inline constexpr const char* kTestSecret = "integration-test-secret-0123456789abcdef";

// Mints tokens the services accept (AUTH_HS256_SECRET=kTestSecret).
class Tokens {
 public:
  Tokens() : issuer_(keys()) {}
  static runtime::auth::KeySet keys() {
    runtime::auth::KeySet k;
    k.keys.push_back({"default", runtime::auth::KeyAlgorithm::hs256, kTestSecret, {}, {}});
    return k;
  }
  std::string bearer(const std::string& subject, const std::string& role) const {
    runtime::auth::TokenRequest request;
    request.subject = subject;
    request.roles = {role};
    return "Authorization: Bearer " + issuer_.issue(request) + "\r\n";
  }
  std::string user(const std::string& id) const { return bearer(id, "user"); }
  std::string service() const { return bearer("order-service", "service"); }
  std::string admin() const { return bearer("ops", "admin"); }

 private:
  runtime::auth::TokenIssuer issuer_;
};

// The binary with SERVER_PORT=0 on 127.0.0.1, AUTH_HS256_SECRET set, plus `env`
// ("NAME=value"). The destructor kills it if it still runs.
class ServiceProcess {
 public:
  ServiceProcess(const QString& binary, const QStringList& env) {
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert("SERVER_PORT", "0");
    e.insert("SERVER_ADDRESS", "127.0.0.1");
    e.insert("ACCESS_LOG", "false");
    e.insert("AUTH_HS256_SECRET", kTestSecret);
    for (const auto& kv : env) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
    process.setProcessEnvironment(e);
    process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process.start(binary, {});
  }
  ~ServiceProcess() {
    if (process.state() != QProcess::NotRunning) {
      process.kill();
      process.waitForFinished(5000);
    }
  }
  // Reads stdout until the "started" line (at most 20 s); returns the port or 0.
  int wait_started() {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20'000) {
      while (process.canReadLine()) {
        auto j = nlohmann::json::parse(process.readLine().toStdString(), nullptr, false);
        if (!j.is_discarded() && j.value("msg", "") == "started") return port = j["port"].get<int>();
      }
      if (!process.waitForReadyRead(200) && process.state() == QProcess::NotRunning) return 0;
    }
    return 0;
  }
  // One request; a failed exchange gives status 0.
  RawResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                      const std::string& headers = {}) const {
    std::string h = headers;
    if (!body.empty()) h += "Content-Type: application/json\r\n";
    auto r = http_request(port, method, target, body, h);
    return r ? *r : RawResponse{};
  }
  nlohmann::json json_of(const RawResponse& r) const { return nlohmann::json::parse(r.body, nullptr, false); }
  // PATCH /admin/settings with an admin token; true on 200.
  bool set(const Tokens& tokens, const nlohmann::json& changes) const {
    return request("PATCH", "/admin/settings", changes.dump(), tokens.admin()).status == 200;
  }

  QProcess process;
  int port = 0;
};

// The value of the first series of `name` in the /metrics text whose labels include every
// pair in `labels`; -1 when there is none (or /metrics does not answer).
inline double scrape(int port, const std::string& name, const std::map<std::string, std::string>& labels = {}) {
  auto r = http_request(port, "GET", "/metrics");
  if (!r || r->status != 200) return -1;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    const std::string series = line.substr(0, std::min(brace, space));
    if (series != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) match = match && line.find(k + "=\"" + v + "\"") != std::string::npos;
    if (match) return std::stod(line.substr(space + 1));
  }
  return -1;
}

}  // namespace mambogo::test
