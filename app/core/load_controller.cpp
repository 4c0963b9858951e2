#include "core/load_controller.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QPointer>
#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

#include "load/engine.h"
#include "load/plan.h"
#include "load/plan_parsers.h"

namespace mambogo::core {
namespace {

namespace ml = mambogo::load;

const QString kBuiltinPrefix = QStringLiteral("builtin:");


ml::Step request(std::string name, std::string method, std::string url) {
  ml::Step step;
  step.kind = ml::Step::Kind::request;
  step.request.name = std::move(name);
  step.request.method = std::move(method);
  step.request.url = ml::Template::compile(url);
  return step;
}

ml::Step listProducts(const std::string& query) {
  ml::Step step = request("GET /api/products", "GET", "/api/products?" + query);
  step.request.captures.push_back({ml::JsonPath::compile("$.content[0].id"), "productId"});
  return step;
}

ml::Scenario browseScenario() {
  ml::Scenario s;
  s.name = "Browse";
  s.weight = 7;
  s.steps.push_back(listProducts("size=10&sort=price,asc"));
  s.steps.push_back(request("GET /api/products/{id}", "GET", "/api/products/{{ productId }}"));
  return s;
}

ml::Scenario orderScenario() {
  ml::Scenario s;
  s.name = "Order";
  s.weight = 3;
  s.steps.push_back(listProducts("inStock=true&size=10"));
  ml::Step order = request("POST /api/orders", "POST", "/api/orders");
  order.request.headers.push_back({"X-Idempotency-Key", ml::Template::compile("{{ $randomUUID() }}")});
  order.request.json = ml::JsonTemplate::compile(nlohmann::json{
      {"items", nlohmann::json::array({{{"productId", "{{ productId }}"}, {"quantity", 1}}})},
      {"shippingAddress", "1 Console Lane, Mambogo City"},
      {"paymentMethod", "CREDIT_CARD"}});
  order.request.captures.push_back({ml::JsonPath::compile("$.orderId"), "orderId"});
  s.steps.push_back(std::move(order));
  return s;
}

ml::ArrivalPhase phase(std::string name, double seconds, double rate, std::optional<double> rampTo = {}) {
  ml::ArrivalPhase p;
  p.name = std::move(name);
  p.duration_s = seconds;
  p.rate = rate;
  p.ramp_to = rampTo;
  return p;
}

// The built-in plans: what a console user wants without writing a file.
ml::Plan builtinPlan(const QString& id) {
  ml::Plan plan;
  plan.file = id.toStdString();
  plan.format = "cli";
  plan.target = "http://localhost:8080";
  plan.default_headers.push_back({"Content-Type", ml::Template::compile("application/json")});
  plan.default_headers.push_back(
      {"Authorization", ml::Template::compile("Bearer {{ $processEnvironment.AUTH_TOKEN }}")});
  const QString name = id.mid(kBuiltinPrefix.size());
  if (name == QLatin1String("browse")) {
    plan.scenarios.push_back(browseScenario());
    plan.phases.push_back(phase("Constant", 60, 20));
  } else if (name == QLatin1String("orders")) {
    plan.scenarios.push_back(orderScenario());
    plan.phases.push_back(phase("Constant", 60, 10));
  } else if (name == QLatin1String("shop")) {
    plan.scenarios.push_back(browseScenario());
    plan.scenarios.push_back(orderScenario());
    plan.phases.push_back(phase("Ramp up", 30, 5, 40));
    plan.phases.push_back(phase("Steady", 60, 40));
    plan.phases.push_back(phase("Peak", 30, 80));
  } else {
    throw ml::PlanError(plan.file, 0, "no built-in plan of that name (known: browse, orders, shop)");
  }
  return plan;
}

ml::Plan loadPlan(const QString& id, const ml::ParseOptions& parse) {
  if (id.startsWith(kBuiltinPrefix)) return builtinPlan(id);
  if (id.isEmpty()) throw ml::PlanError("", 0, "no plan chosen");
  return ml::parse_plan(QDir::toNativeSeparators(id).toStdString(), parse);
}

LoadSnapshot toSnapshot(const ml::Snapshot& s) {
  LoadSnapshot out;
  out.elapsedS = s.elapsed_s;
  out.phase = QString::fromStdString(s.phase);
  out.rps = s.rps;
  out.requests = s.requests;
  out.failed = s.failed;
  out.errorRate = s.requests > 0 ? double(s.failed) / double(s.requests) : 0.0;
  out.p50Ms = s.latency.p50;
  out.p95Ms = s.latency.p95;
  out.p99Ms = s.latency.p99;
  out.maxMs = s.latency.max;
  out.inFlight = s.in_flight;
  out.queued = s.queued;
  out.dropped = s.dropped;
  out.totalRequests = s.total_requests;
  return out;
}

LoadSummary toSummary(const QString& plan, const ml::Summary& s) {
  const auto latency = ml::Percentiles::of(s.overall.corrected);
  LoadSummary out;
  out.plan = plan;
  out.durationS = s.duration_s;
  out.requests = s.overall.count;
  out.failed = s.overall.failed;
  out.dropped = s.dropped;
  out.p50Ms = latency.p50;
  out.p95Ms = latency.p95;
  out.p99Ms = latency.p99;
  out.stoppedEarly = s.stopped_early;
  return out;
}

QString planTitle(const QString& id) {
  for (const auto& choice : LoadController::availablePlans({}))
    if (choice.id == id) return choice.title;
  return QFileInfo(id).fileName();
}

}  // namespace

// One run: its settings, the worker thread and the engine it drives.
class LoadController::Run {
 public:
  Run(LoadController* owner, LoadSettings settings, QString title)
      : m_owner(owner), m_settings(std::move(settings)), m_title(std::move(title)) {}
  ~Run() {
    stop();
    if (m_thread.joinable()) m_thread.join();
  }

  void start() { m_thread = std::thread([this] { work(); }); }

  void stop() {
    std::lock_guard lock(m_mutex);
    m_stopRequested = true;
    if (m_engine) m_engine->stop();
  }

 private:
  template <typename F>
  void post(F&& f) {
    QMetaObject::invokeMethod(m_owner, std::forward<F>(f), Qt::QueuedConnection);
  }

  ml::EngineOptions engineOptions() const {
    ml::EngineOptions options;
    options.target = m_settings.target.toStdString();
    options.threads = std::max(1, m_settings.threads);
    options.grace = std::chrono::milliseconds(2'000);
    options.max_duration_s = m_settings.maxDurationS;
    const std::string token = m_settings.authToken.toStdString();
    if (!token.empty()) options.properties["AUTH_TOKEN"] = token;
    ml::EnvLookup fallback = ml::process_environment();
    options.env = [token, fallback](std::string_view name) -> std::optional<std::string> {
      if (name == "AUTH_TOKEN" && !token.empty()) return token;
      return fallback(name);
    };
    return options;
  }

  ml::Plan preparePlan(const ml::EngineOptions& options) const {
    ml::ParseOptions parse;
    parse.properties = options.properties;
    parse.env = options.env;
    ml::Plan plan = loadPlan(m_settings.plan, parse);
    if (m_settings.rateScale <= 0 || m_settings.timeScale <= 0)
      throw ml::PlanError(plan.file, 0, "rate and time scale must be greater than 0");
    if (m_settings.rateScale != 1 || m_settings.timeScale != 1)
      ml::scale(plan, m_settings.rateScale, m_settings.timeScale);
    if (m_settings.rate || m_settings.vus) {
      if (m_settings.durationS <= 0) throw ml::PlanError(plan.file, 0, "the duration must be greater than 0");
      if (m_settings.rate && *m_settings.rate <= 0) throw ml::PlanError(plan.file, 0, "the rate must be greater than 0");
      if (m_settings.vus && *m_settings.vus <= 0)
        throw ml::PlanError(plan.file, 0, "the number of virtual users must be greater than 0");
      if (m_settings.rate)
        ml::use_constant_rate(plan, *m_settings.rate, m_settings.durationS);
      else
        ml::use_constant_vus(plan, *m_settings.vus, m_settings.durationS);
    }
    return plan;
  }

  void work() {
    LoadController* owner = m_owner;
    const QString title = m_title;
    try {
      const ml::EngineOptions options = engineOptions();
      ml::Plan plan = preparePlan(options);
      double nominal = plan.nominal_duration_s();
      if (m_settings.maxDurationS && (nominal <= 0 || *m_settings.maxDurationS < nominal))
        nominal = *m_settings.maxDurationS;
      {
        std::lock_guard lock(m_mutex);
        m_engine = std::make_unique<ml::Engine>(std::move(plan), options);
        if (m_stopRequested) m_engine->stop();
      }
      post([owner, title, nominal] { Q_EMIT owner->started(title, nominal); });
      const ml::Summary summary = m_engine->run([&](const ml::Snapshot& s) {
        const LoadSnapshot snapshot = toSnapshot(s);
        const int percent = nominal > 0 ? int(std::clamp(100.0 * s.elapsed_s / nominal, 0.0, 100.0)) : 0;
        post([owner, snapshot, percent] {
          Q_EMIT owner->snapshotAvailable(snapshot);
          Q_EMIT owner->progress(percent, snapshot.phase);
        });
      });
      const LoadSummary result = toSummary(title, summary);
      post([owner, result] {
        Q_EMIT owner->progress(100, QString());
        owner->onRunEnded();
        Q_EMIT owner->finished(result);
      });
    } catch (const std::exception& e) {
      const QString message = QString::fromStdString(e.what());
      post([owner, message] {
        owner->onRunEnded();
        Q_EMIT owner->failed(message);
      });
    }
  }

  LoadController* const m_owner;
  const LoadSettings m_settings;
  const QString m_title;
  std::thread m_thread;

  std::mutex m_mutex;  // guards the two members below
  std::unique_ptr<ml::Engine> m_engine;
  bool m_stopRequested = false;
};

LoadController::LoadController(QObject* parent) : QObject(parent) {
  qRegisterMetaType<LoadSnapshot>();
  qRegisterMetaType<LoadSummary>();
}

LoadController::~LoadController() = default;

QList<LoadPlanChoice> LoadController::availablePlans(const QString& scenarioDir) {
  QList<LoadPlanChoice> plans{
      {kBuiltinPrefix + QLatin1String("browse"), QCoreApplication::translate("LoadController", "Browse catalogue (20 req/s)"),
       QCoreApplication::translate("LoadController", "Product listing and detail pages at a constant 20 arrivals per second for 60 s."), true},
      {kBuiltinPrefix + QLatin1String("orders"), QCoreApplication::translate("LoadController", "Place orders (10/s)"),
       QCoreApplication::translate("LoadController", "Orders through the gateway, order, product and payment services: 10 per second for 60 s."), true},
      {kBuiltinPrefix + QLatin1String("shop"), QCoreApplication::translate("LoadController", "Shop: ramp, steady, peak"),
       QCoreApplication::translate("LoadController", "Browsing and orders 7:3, ramping 5 to 40 per second, steady, then a peak of 80."), true},
  };
  if (scenarioDir.isEmpty()) return plans;
  const QDir dir(scenarioDir);
  for (const QFileInfo& file :
       dir.entryInfoList({QStringLiteral("*.yml"), QStringLiteral("*.yaml"), QStringLiteral("*.jmx")}, QDir::Files,
                         QDir::Name)) {
    const bool jmeter = file.suffix() == QLatin1String("jmx");
    plans.push_back({file.absoluteFilePath(), file.fileName(),
                     jmeter ? QCoreApplication::translate("LoadController", "JMeter test plan") : QCoreApplication::translate("LoadController", "Artillery script"), false});
  }
  return plans;
}

QString LoadController::defaultScenarioDir() {
  const QString data = qEnvironmentVariable("MAMBOGO_DATA_DIR");
  if (!data.isEmpty()) return QDir(data).filePath(QStringLiteral("scenarios"));
  const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/mambogo/scenarios");
  if (QFileInfo(installed).isDir()) return QDir(installed).absolutePath();
  return QStringLiteral(MAMBOGO_SOURCE_DIR "/resources/scenarios");
}

bool LoadController::start(const LoadSettings& settings) {
  if (m_running) return false;
  m_run.reset();  // joins the previous, finished run's thread
  m_running = true;
  m_run = std::make_unique<Run>(this, settings, planTitle(settings.plan));
  m_run->start();
  return true;
}

void LoadController::stop() {
  if (m_running && m_run) m_run->stop();
}

void LoadController::onRunEnded() { m_running = false; }

}  // namespace mambogo::core
