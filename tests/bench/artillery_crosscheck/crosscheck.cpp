#include "crosscheck.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "load/plan.h"
#include "load/plan_parsers.h"
#include "raw_http.h"

namespace mambogo::crosscheck {
namespace {

using nlohmann::json;

// The token both clients send (the server only checks that there is one).
constexpr const char* kToken = "crosscheck-token";

// The server's route templates and the plan's URL templates they answer.
const std::map<std::string, std::string> kServerRoutes = {
    {"POST /api/orders", "/api/orders"},
    {"GET /api/orders/{id}", "/api/orders/{{ orderId }}"},
    {"GET /api/products", "/api/products"},
    {"GET /api/products/{id}", "/api/products/{{ $randomUUID() }}"},
};

Latency latency_of(const json& s) {
  Latency l;
  l.count = s.value("count", std::int64_t{0});
  l.p50 = s.value("p50", s.value("median", 0.0));
  l.p90 = s.value("p90", 0.0);
  l.p95 = s.value("p95", 0.0);
  l.p99 = s.value("p99", 0.0);
  l.max = s.value("max", 0.0);
  return l;
}

std::string status_class(const std::string& code) { return code.size() == 3 ? code.substr(0, 1) + "xx" : code; }

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  auto j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(path + " is not JSON");
  return j;
}

struct Finished {
  int code = -1;
  QString output;
  double wall_s = 0;
};

Finished run_process(const QString& program, const QStringList& args, const QProcessEnvironment& env,
                     int timeout_ms) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.setProcessChannelMode(QProcess::MergedChannels);
  QElapsedTimer timer;
  timer.start();
  p.start(program, args);
  if (!p.waitForStarted(10'000)) throw std::runtime_error("cannot start " + program.toStdString());
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished(5'000);
    throw std::runtime_error(program.toStdString() + " did not finish within " + std::to_string(timeout_ms / 1000) +
                             " s:\n" + p.readAll().toStdString());
  }
  Finished f{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll()),
             static_cast<double>(timer.elapsed()) / 1000.0};
  return f;
}

// The server as a child process for the duration of a run.
class Server {
 public:
  Server(const std::string& binary, int delay_ms) {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("SERVER_PORT", "0");
    env.insert("CROSSCHECK_DELAY_MS", QString::number(delay_ms));
    process_.setProcessEnvironment(env);
    process_.start(QString::fromStdString(binary), {});
    QElapsedTimer timer;
    timer.start();
    while (port_ == 0 && timer.elapsed() < 20'000) {
      if (!process_.waitForReadyRead(200) && process_.state() == QProcess::NotRunning) break;
      while (process_.canReadLine()) {
        auto j = json::parse(process_.readLine().toStdString(), nullptr, false);
        if (!j.is_discarded() && j.value("msg", "") == "started") port_ = j.value("port", 0);
      }
    }
    if (port_ == 0)
      throw std::runtime_error(binary + " did not start: " + process_.readAllStandardError().toStdString());
  }
  ~Server() {
    process_.terminate();
    if (!process_.waitForFinished(5'000)) {
      process_.kill();
      process_.waitForFinished(5'000);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  json stats() const {
    auto r = test::http_request(port_, "GET", "/stats");
    if (!r || r->status != 200) throw std::runtime_error("the server's /stats did not answer");
    return json::parse(r->body);
  }
  void reset() const {
    auto r = test::http_request(port_, "POST", "/stats/reset");
    if (!r || r->status != 200) throw std::runtime_error("the server's /stats/reset did not answer");
  }

 private:
  QProcess process_;
  int port_ = 0;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string ratio(double a, double b) { return b > 0 ? fmt("%.2f", a / b) : "-"; }

}  // namespace

std::string endpoint_of(const std::string& request_name) {
  auto space = request_name.find(' ');
  return space == std::string::npos ? request_name : request_name.substr(space + 1);
}

ToolResult read_artillery_report(const json& report) {
  ToolResult t;
  t.tool = "artillery";
  const json& agg = report.at("aggregate");
  const json& counters = agg.value("counters", json::object());
  const json& summaries = agg.value("summaries", json::object());
  const std::string by_endpoint = "plugins.metrics-by-endpoint.";
  const std::string by_name = "vusers.created_by_name.";
  for (const auto& [name, value] : counters.items()) {
    const auto n = value.get<std::int64_t>();
    if (name.starts_with(by_name)) {
      t.scenarios[name.substr(by_name.size())] += n;
    } else if (name.starts_with(by_endpoint)) {
      // plugins.metrics-by-endpoint.<url>.codes.<code> | .errors.<reason>
      const std::string rest = name.substr(by_endpoint.size());
      if (auto at = rest.rfind(".codes."); at != std::string::npos) {
        auto& e = t.endpoints[rest.substr(0, at)];
        e.requests += n;
        e.classes[status_class(rest.substr(at + 7))] += n;
      } else if (auto err = rest.rfind(".errors."); err != std::string::npos) {
        t.endpoints[rest.substr(0, err)].errors += n;
      }
    } else if (name == "vusers.created") {
      t.arrivals = n;
    } else if (name.starts_with("errors.")) {
      // Requests that never got a URL ("Invalid URL - undefined") are counted only here.
      if (name.find("Invalid URL") != std::string::npos) t.endpoints["(invalid URL)"].errors += n;
    }
  }
  const std::string rt = "plugins.metrics-by-endpoint.response_time.";
  for (const auto& [name, value] : summaries.items())
    if (name.starts_with(rt)) t.endpoints[name.substr(rt.size())].latency = latency_of(value);
  if (summaries.contains("http.response_time")) t.overall = latency_of(summaries["http.response_time"]);
  return t;
}

ToolResult read_mambogo_report(const json& report) {
  ToolResult t;
  t.tool = "mambogo-load";
  for (const auto& [name, r] : report.at("requests").items()) {
    auto& e = t.endpoints[endpoint_of(name)];
    for (const auto& [cls, n] : r.at("status_classes").items()) {
      if (cls == "transport")
        e.errors += n.get<std::int64_t>();
      else if (n.get<std::int64_t>() > 0)
        e.classes[cls] += n.get<std::int64_t>();
    }
    e.requests = r.at("requests").get<std::int64_t>() - e.errors;
    e.latency = latency_of(r.at("service_time_ms"));
  }
  for (const auto& [name, n] : report.at("scenarios").items()) t.scenarios[name] = n.get<std::int64_t>();
  t.arrivals = report.at("iterations").at("started").get<std::int64_t>() +
               report.at("iterations").at("dropped").get<std::int64_t>();
  t.overall = latency_of(report.at("overall").at("service_time_ms"));
  t.overall_corrected = latency_of(report.at("overall").at("latency_ms"));
  return t;
}

std::map<std::string, std::map<std::string, std::int64_t>> read_server_stats(const json& stats) {
  std::map<std::string, std::map<std::string, std::int64_t>> out;
  for (const auto& [route, codes] : stats.items()) {
    auto it = kServerRoutes.find(route);
    auto& e = out[it == kServerRoutes.end() ? route : it->second];
    for (const auto& [code, n] : codes.items()) e[code] += n.get<std::int64_t>();
  }
  return out;
}

std::string find_artillery(const std::string& build_dir) {
  std::vector<std::string> candidates;
  if (const char* e = std::getenv("MAMBOGO_ARTILLERY"); e && *e) candidates.emplace_back(e);
  if (!build_dir.empty()) candidates.push_back(build_dir + "/artillery/node_modules/.bin/artillery");
  if (const char* home = std::getenv("HOME"); home && *home)
    candidates.push_back(std::string(home) + "/.cache/mambogo/artillery/node_modules/.bin/artillery");
  for (const auto& c : candidates)
    if (QFileInfo(QString::fromStdString(c)).isExecutable()) return c;
  return {};
}

Planned plan_phases(const Options& options) {
  load::Plan plan = load::parse_plan(options.plan);
  load::scale(plan, options.rate_scale, options.time_scale);
  Planned p;
  p.artillery_phases = json::array();
  for (const auto& ph : plan.phases) {
    json j{{"duration", ph.duration_s}, {"name", ph.name}};
    if (ph.pause) {
      j["pause"] = ph.duration_s;
      j.erase("duration");
    } else if (ph.arrival_count) {
      j["arrivalCount"] = *ph.arrival_count;
      p.arrivals += *ph.arrival_count;
    } else {
      j["arrivalRate"] = ph.rate;
      if (ph.ramp_to) j["rampTo"] = *ph.ramp_to;
      const double end_rate = ph.ramp_to.value_or(ph.rate);
      p.arrivals += std::llround((ph.rate + end_rate) / 2 * ph.duration_s);
    }
    if (ph.max_vusers) j["maxVusers"] = *ph.max_vusers;
    p.artillery_phases.push_back(j);
  }
  double total = 0;
  for (const auto& s : plan.scenarios) total += s.weight;
  for (const auto& s : plan.scenarios) p.scenario_weight[s.name] = s.weight / total;
  return p;
}

Result run(const Options& o) {
  Result result;
  result.planned = plan_phases(o);
  Server server(o.server, o.server_delay_ms);
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("AUTH_TOKEN", kToken);
  const int timeout_ms = 600'000;

  const std::string ours = o.work_dir + "/mambogo-load.json";
  auto m = run_process(QString::fromStdString(o.mambogo_load),
                       {"run", QString::fromStdString(o.plan), "--target", QString::fromStdString(server.url()),
                        "--rate-scale", QString::number(o.rate_scale), "--time-scale", QString::number(o.time_scale),
                        "--out", QString::fromStdString(ours), "-q"},
                       env, timeout_ms);
  if (m.code != 0) throw std::runtime_error("mambogo-load exited with " + std::to_string(m.code) + ":\n" +
                                            m.output.toStdString());
  result.mambogo = read_mambogo_report(read_json(ours));
  result.mambogo.wall_s = m.wall_s;
  result.server_mambogo = read_server_stats(server.stats());
  server.reset();

  json overrides{{"config", {{"phases", result.planned.artillery_phases}, {"plugins", {{"metrics-by-endpoint", json::object()}}}}}};
  if (o.seed_shim) overrides["config"]["plugins"]["mambogo-seed-functions"] = json::object();
  env.insert("ARTILLERY_PLUGIN_PATH", QString::fromStdString(o.plugin_dir));
  env.insert("ARTILLERY_DISABLE_TELEMETRY", "true");
  const std::string theirs = o.work_dir + "/artillery.json";
  auto a = run_process(QString::fromStdString(o.artillery),
                       {"run", "--target", QString::fromStdString(server.url()), "--overrides",
                        QString::fromStdString(overrides.dump()), "--output", QString::fromStdString(theirs),
                        QString::fromStdString(o.plan)},
                       env, timeout_ms);
  if (a.code != 0) throw std::runtime_error("artillery exited with " + std::to_string(a.code) + ":\n" +
                                            a.output.toStdString());
  if (a.output.contains("WARNING: Plugin"))  // a plugin that did not load changes what is measured
    throw std::runtime_error("artillery could not load a plugin:\n" + a.output.toStdString());
  result.artillery = read_artillery_report(read_json(theirs));
  result.artillery.wall_s = a.wall_s;
  result.server_artillery = read_server_stats(server.stats());
  return result;
}

std::string format(const Result& r) {
  std::ostringstream o;
  const auto& A = r.artillery;
  const auto& M = r.mambogo;
  o << "planned arrivals " << r.planned.arrivals << " (scaled phases: " << r.planned.artillery_phases.dump() << ")\n";
  o << "wall time: artillery " << fmt("%.1f", A.wall_s) << " s, mambogo-load " << fmt("%.1f", M.wall_s) << " s\n\n";

  o << "== virtual users / iterations per scenario (expected = planned arrivals x weight)\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-28s %10s %10s %12s %8s\n", "scenario", "expected", "artillery", "mambogo-load",
                "ratio");
  o << line;
  for (const auto& [name, w] : r.planned.scenario_weight) {
    auto get = [&](const ToolResult& t) { return t.scenarios.count(name) ? t.scenarios.at(name) : 0; };
    std::snprintf(line, sizeof line, "%-28s %10.1f %10lld %12lld %8s\n", name.c_str(), w * r.planned.arrivals,
                  static_cast<long long>(get(A)), static_cast<long long>(get(M)),
                  ratio(static_cast<double>(get(A)), static_cast<double>(get(M))).c_str());
    o << line;
  }
  std::snprintf(line, sizeof line, "%-28s %10lld %10lld %12lld\n\n", "all arrivals",
                static_cast<long long>(r.planned.arrivals), static_cast<long long>(A.arrivals),
                static_cast<long long>(M.arrivals));
  o << line;

  std::set<std::string> names;
  for (const auto& [n, e] : A.endpoints) names.insert(n);
  for (const auto& [n, e] : M.endpoints) names.insert(n);
  o << "== requests per endpoint: client count [server count] status classes; no-answer errors\n";
  for (const auto& n : names) {
    auto describe = [&](const ToolResult& t, const auto& server) {
      std::ostringstream s;
      auto it = t.endpoints.find(n);
      if (it == t.endpoints.end()) return std::string("-");
      std::int64_t seen = 0;
      if (auto sv = server.find(n); sv != server.end())
        for (const auto& [code, c] : sv->second) seen += c;
      s << it->second.requests << " [" << seen << "]";
      for (const auto& [cls, c] : it->second.classes) s << " " << cls << "=" << c;
      if (it->second.errors) s << " errors=" << it->second.errors;
      return s.str();
    };
    std::snprintf(line, sizeof line, "%-36s artillery %-26s mambogo-load %s\n", n.c_str(),
                  describe(A, r.server_artillery).c_str(), describe(M, r.server_mambogo).c_str());
    o << line;
  }

  o << "\n== latency, ms: artillery http.response_time (time to first byte after the request is sent; a new\n"
       "   connection per virtual user, its connect not counted) / mambogo-load service time (first byte\n"
       "   written to last byte read, pooled keep-alive connections) (ratio artillery / mambogo-load)\n";
  std::snprintf(line, sizeof line, "%-36s %5s %22s %22s %22s %22s\n", "endpoint", "", "p50", "p95", "p99", "max");
  o << line;
  auto row = [&](const std::string& name, const Latency& a, const Latency& m) {
    auto cell = [](double x, double y) { return fmt("%.2f", x) + " / " + fmt("%.2f", y) + " (" + ratio(x, y) + ")"; };
    std::snprintf(line, sizeof line, "%-36s %5s %22s %22s %22s %22s\n", name.c_str(), "", cell(a.p50, m.p50).c_str(),
                  cell(a.p95, m.p95).c_str(), cell(a.p99, m.p99).c_str(), cell(a.max, m.max).c_str());
    o << line;
  };
  for (const auto& n : names)
    if (A.endpoints.count(n) && M.endpoints.count(n)) row(n, A.endpoints.at(n).latency, M.endpoints.at(n).latency);
  row("all requests", A.overall, M.overall);
  if (M.overall_corrected) {
    const auto& c = *M.overall_corrected;
    o << "mambogo-load corrected (from intended start): p50 " << fmt("%.2f", c.p50) << "  p95 " << fmt("%.2f", c.p95)
      << "  p99 " << fmt("%.2f", c.p99) << "  max " << fmt("%.2f", c.max) << " ms\n";
  }
  return o.str();
}

}  // namespace mambogo::crosscheck
