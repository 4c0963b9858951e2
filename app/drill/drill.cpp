#include "drill/drill.h"

#include <yaml-cpp/yaml.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>
#include <set>

namespace mambogo::drill {

DrillError::DrillError(QString f, int l, QString r)
    : std::runtime_error((l > 0 ? QStringLiteral("%1:%2: %3").arg(f).arg(l).arg(r) : QStringLiteral("%1: %2").arg(f, r))
                             .toStdString()),
      file(std::move(f)),
      line(l),
      reason(std::move(r)) {}

// ---------------------------------------------------------------------------------------- checks

bool Check::isProbe(const QString& text) {
  static const QRegularExpression re(QStringLiteral(
      R"(^(delta:)?(load\.\w+|burst\.[\w-]+\.(sent|ok|limited|failed)|(service|breaker|hpa|deployment)\.[\w.-]+\.[\w.-]+|(metric|max|rate)\.[\w-]+\.\w+(\{.*\})?)$)"));
  return re.match(text).hasMatch();
}

std::optional<Check> Check::parse(const QString& text, QString* why) {
  static const QRegularExpression re(QStringLiteral(R"(^\s*(\S+?)\s*(<=|>=|==|!=|<|>)\s*(\S.*?)\s*$)"));
  const auto m = re.match(text);
  if (!m.hasMatch()) {
    *why = QStringLiteral("not a check (PROBE OP VALUE, OP one of < <= > >= == !=): \"%1\"").arg(text);
    return std::nullopt;
  }
  Check c;
  c.text = text.trimmed();
  c.probe = m.captured(1);
  const QString op = m.captured(2);
  c.op = op == QLatin1String("<")    ? Op::Lt
         : op == QLatin1String("<=") ? Op::Le
         : op == QLatin1String(">")  ? Op::Gt
         : op == QLatin1String(">=") ? Op::Ge
         : op == QLatin1String("==") ? Op::Eq
                                     : Op::Ne;
  c.value = m.captured(3);
  bool ok = false;
  const double n = c.value.toDouble(&ok);
  if (ok) c.number = n;
  if (!isProbe(c.probe)) {
    *why = QStringLiteral("unknown probe \"%1\" (load.*, burst.ID.*, service.APP.*, breaker.APP.NAME, hpa.NAME.*, deployment.NAME.*, "
                          "metric|max|rate.APP.SAMPLE{...}, each optionally prefixed delta:)")
               .arg(c.probe);
    return std::nullopt;
  }
  if (!c.number && isProbe(c.value)) c.valueProbe = c.value;
  if (!c.number && !c.valueProbe && c.op != Op::Eq && c.op != Op::Ne) {
    *why = QStringLiteral("%1 needs a number or a probe, got \"%2\"").arg(op, c.value);
    return std::nullopt;
  }
  return c;
}

bool Check::holds(const QJsonValue& measured, const QJsonValue& other) const {
  const QJsonValue target = valueProbe ? other : number ? QJsonValue(*number) : QJsonValue(value);
  if (target.isDouble()) {
    if (!measured.isDouble() || std::isnan(measured.toDouble()) || std::isnan(target.toDouble())) return false;
    const double v = measured.toDouble(), n = target.toDouble();
    switch (op) {
      case Op::Lt: return v < n;
      case Op::Le: return v <= n;
      case Op::Gt: return v > n;
      case Op::Ge: return v >= n;
      case Op::Eq: return std::abs(v - n) < 1e-9;
      case Op::Ne: return std::abs(v - n) >= 1e-9;
    }
    return false;
  }
  if (!measured.isString() || !target.isString()) return false;
  const bool equal = measured.toString() == target.toString();
  return op == Op::Eq ? equal : op == Op::Ne ? !equal : false;
}

QString Check::opText(Op op) {
  switch (op) {
    case Op::Lt: return QStringLiteral("<");
    case Op::Le: return QStringLiteral("<=");
    case Op::Gt: return QStringLiteral(">");
    case Op::Ge: return QStringLiteral(">=");
    case Op::Eq: return QStringLiteral("==");
    case Op::Ne: return QStringLiteral("!=");
  }
  return {};
}

QString Step::describe() const {
  switch (kind) {
    case Kind::Fault: return QCoreApplication::translate("Drill", "fault: %1").arg(core::FaultController::describe(fault));
    case Kind::Recover:
      return recover == QLatin1String("all") ? QCoreApplication::translate("Drill", "recover every fault")
                                             : QCoreApplication::translate("Drill", "recover %1").arg(recover);
    case Kind::Setting:
      return QCoreApplication::translate("Drill", "set %1 = %2 on %3")
          .arg(setting, value.isString() ? value.toString() : QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact)).mid(1).chopped(1), service);
    case Kind::Scale: return QCoreApplication::translate("Drill", "scale %1 to %2").arg(deployment).arg(replicas);
    case Kind::Mark: return note;
    case Kind::Burst:
      return QCoreApplication::translate("Drill", "burst: %1 req/s for %2 s on %3 as the %4 token's user")
          .arg(burstRate)
          .arg(burstDurationS)
          .arg(burstPath, burstAs);
  }
  return {};
}

// ---------------------------------------------------------------------------------------- parser

namespace {

// "resources/drills/07-payment-outage.yaml" -> "payment-outage" (the number only orders the list).
QString drillId(const QString& file) {
  static const QRegularExpression prefix(QStringLiteral("^\\d+-"));
  return QFileInfo(file).completeBaseName().remove(prefix);
}

class Parser {
 public:
  explicit Parser(QString file) : m_file(std::move(file)) {}

  [[noreturn]] void fail(const YAML::Node& node, const QString& path, const QString& reason) const {
    throw DrillError(m_file, node.IsDefined() ? node.Mark().line + 1 : 0, path.isEmpty() ? reason : path + QStringLiteral(": ") + reason);
  }

  void onlyKeys(const YAML::Node& map, const QString& path, std::initializer_list<const char*> keys) const {
    if (!map.IsMap()) fail(map, path, QStringLiteral("must be a mapping"));
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; })) {
        QStringList known;
        for (const char* k : keys) known << QString::fromLatin1(k);
        fail(kv.first, path, QStringLiteral("unknown field \"%1\" (known: %2)").arg(QString::fromStdString(key), known.join(QStringLiteral(", "))));
      }
    }
  }

  void require(const YAML::Node& map, const QString& path, std::initializer_list<const char*> keys) const {
    for (const char* key : keys)
      if (!map[key]) fail(map, path, QStringLiteral("needs \"%1\"").arg(QString::fromLatin1(key)));
  }

  QString text(const YAML::Node& node, const QString& path) const {
    if (!node.IsScalar()) fail(node, path, QStringLiteral("must be text"));
    return QString::fromStdString(node.Scalar());
  }

  double number(const YAML::Node& node, const QString& path, double min, double max) const {
    if (!node.IsScalar()) fail(node, path, QStringLiteral("must be a number"));
    bool ok = false;
    const double v = QString::fromStdString(node.Scalar()).toDouble(&ok);
    if (!ok || v < min || v > max) fail(node, path, QStringLiteral("must be a number in %1..%2, got \"%3\"").arg(min).arg(max).arg(QString::fromStdString(node.Scalar())));
    return v;
  }

  // "90s", "500ms", "2m", "1h" or a plain number of seconds.
  double duration(const YAML::Node& node, const QString& path) const {
    if (!node.IsScalar()) fail(node, path, QStringLiteral("must be a duration such as 30s, 500ms or 2m"));
    static const QRegularExpression re(QStringLiteral(R"(^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$)"));
    const auto m = re.match(QString::fromStdString(node.Scalar()));
    if (!m.hasMatch()) fail(node, path, QStringLiteral("not a duration (30s, 500ms, 2m): \"%1\"").arg(QString::fromStdString(node.Scalar())));
    const double v = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    return unit == QLatin1String("ms") ? v / 1000 : unit == QLatin1String("m") ? v * 60 : unit == QLatin1String("h") ? v * 3600 : v;
  }

  Check check(const YAML::Node& node, const QString& path) const {
    QString why;
    auto c = Check::parse(text(node, path), &why);
    if (!c) fail(node, path, why);
    c->line = node.Mark().line + 1;
    return *c;
  }

  QList<Check> checks(const YAML::Node& node, const QString& path) const {
    if (!node.IsSequence()) fail(node, path, QStringLiteral("must be a list of checks"));
    QList<Check> out;
    for (std::size_t i = 0; i < node.size(); ++i) out << check(node[i], QStringLiteral("%1[%2]").arg(path).arg(i));
    return out;
  }

  core::FaultSpec fault(const YAML::Node& node, const QString& path) const {
    onlyKeys(node, path, {"type", "service", "target", "duration", "all", "latency", "jitter", "loss", "delay", "code", "path", "workers", "load"});
    require(node, path, {"type", "service"});
    using K = core::FaultSpec::Kind;
    static const std::map<std::string, K> kinds{
        {"pod-kill", K::PodKill},           {"pod-failure", K::PodFailure},     {"network-delay", K::NetworkDelay},
        {"network-loss", K::NetworkLoss},   {"network-partition", K::NetworkPartition}, {"http-abort", K::HttpAbort},
        {"http-delay", K::HttpDelay},       {"http-replace-code", K::HttpReplaceCode},  {"cpu-stress", K::CpuStress}};
    core::FaultSpec f;
    const auto kind = kinds.find(text(node["type"], path + QStringLiteral(".type")).toStdString());
    if (kind == kinds.end())
      fail(node["type"], path + QStringLiteral(".type"),
           QStringLiteral("unknown fault type (pod-kill, pod-failure, network-delay, network-loss, network-partition, "
                          "http-abort, http-delay, http-replace-code, cpu-stress)"));
    f.kind = kind->second;
    f.service = text(node["service"], path + QStringLiteral(".service"));
    if (node["target"]) f.targetService = text(node["target"], path + QStringLiteral(".target"));
    f.durationS = node["duration"] ? int(std::ceil(duration(node["duration"], path + QStringLiteral(".duration")))) : 30;
    if (node["all"]) f.allPods = node["all"].as<bool>(false);
    if (node["latency"]) f.latencyMs = int(duration(node["latency"], path + QStringLiteral(".latency")) * 1000);
    if (node["jitter"]) f.jitterMs = int(duration(node["jitter"], path + QStringLiteral(".jitter")) * 1000);
    if (node["loss"]) f.lossPercent = number(node["loss"], path + QStringLiteral(".loss"), 0, 100);
    if (node["delay"]) f.httpDelayMs = int(duration(node["delay"], path + QStringLiteral(".delay")) * 1000);
    if (node["code"]) f.replaceCode = int(number(node["code"], path + QStringLiteral(".code"), 100, 599));
    if (node["path"]) f.httpPath = text(node["path"], path + QStringLiteral(".path"));
    if (node["workers"]) f.cpuWorkers = int(number(node["workers"], path + QStringLiteral(".workers"), 1, 64));
    if (node["load"]) f.cpuLoadPercent = int(number(node["load"], path + QStringLiteral(".load"), 1, 100));
    try {
      core::FaultController::buildResource(f, QStringLiteral("check"), QStringLiteral("default"));
    } catch (const std::invalid_argument& e) {
      fail(node, path, QString::fromUtf8(e.what()));
    }
    return f;
  }

  Step step(const YAML::Node& node, const QString& path, bool timed) const {
    if (timed) onlyKeys(node, path, {"id", "at", "fault", "recover", "setting", "scale", "mark", "burst"});
    else onlyKeys(node, path, {"id", "fault", "recover", "setting", "scale", "mark"});
    Step s;
    s.line = node.Mark().line + 1;
    if (node["id"]) s.id = text(node["id"], path + QStringLiteral(".id"));
    if (timed) {
      if (!node["at"]) fail(node, path, QStringLiteral("needs \"at\" (seconds after the warmup)"));
      s.atS = duration(node["at"], path + QStringLiteral(".at"));
    }
    int actions = 0;
    if (node["fault"]) {
      ++actions;
      s.kind = Step::Kind::Fault;
      s.fault = fault(node["fault"], path + QStringLiteral(".fault"));
    }
    if (node["recover"]) {
      ++actions;
      s.kind = Step::Kind::Recover;
      s.recover = text(node["recover"], path + QStringLiteral(".recover"));
    }
    if (node["setting"]) {
      ++actions;
      const YAML::Node n = node["setting"];
      const QString p = path + QStringLiteral(".setting");
      onlyKeys(n, p, {"service", "name", "value"});
      require(n, p, {"service", "name", "value"});
      s.kind = Step::Kind::Setting;
      s.service = text(n["service"], p + QStringLiteral(".service"));
      s.setting = text(n["name"], p + QStringLiteral(".name"));
      const YAML::Node v = n["value"];
      if (!v || !v.IsScalar()) fail(n, p, QStringLiteral("needs a value (a number, true/false or a word)"));
      const QString raw = QString::fromStdString(v.Scalar());
      bool isNumber = false;
      const double d = raw.toDouble(&isNumber);
      if (v.Tag() == "!") s.value = raw;  // quoted: a word
      else if (raw == QLatin1String("true") || raw == QLatin1String("false")) s.value = raw == QLatin1String("true");
      else if (isNumber) s.value = d;
      else s.value = raw;
    }
    if (node["scale"]) {
      ++actions;
      const YAML::Node n = node["scale"];
      const QString p = path + QStringLiteral(".scale");
      onlyKeys(n, p, {"deployment", "replicas"});
      require(n, p, {"deployment", "replicas"});
      s.kind = Step::Kind::Scale;
      s.deployment = text(n["deployment"], p + QStringLiteral(".deployment"));
      s.replicas = int(number(n["replicas"], p + QStringLiteral(".replicas"), 0, 100));
    }
    if (node["mark"]) {
      ++actions;
      s.kind = Step::Kind::Mark;
      s.note = text(node["mark"], path + QStringLiteral(".mark"));
    }
    if (node["burst"]) {
      ++actions;
      const YAML::Node n = node["burst"];
      const QString p = path + QStringLiteral(".burst");
      onlyKeys(n, p, {"rate", "duration", "path", "as"});
      require(n, p, {"rate", "duration"});
      s.kind = Step::Kind::Burst;
      s.burstRate = number(n["rate"], p + QStringLiteral(".rate"), 1, 2000);
      s.burstDurationS = duration(n["duration"], p + QStringLiteral(".duration"));
      if (s.burstDurationS <= 0 || s.burstDurationS > 120) fail(n["duration"], p + QStringLiteral(".duration"), QStringLiteral("must be in 0..120 s"));
      s.burstPath = n["path"] ? text(n["path"], p + QStringLiteral(".path")) : QStringLiteral("/api/products");
      if (!s.burstPath.startsWith(QLatin1Char('/'))) fail(n["path"], p + QStringLiteral(".path"), QStringLiteral("must start with /"));
      s.burstAs = n["as"] ? text(n["as"], p + QStringLiteral(".as")) : QStringLiteral("admin");
      if (s.burstAs != QLatin1String("admin") && s.burstAs != QLatin1String("user"))
        fail(n["as"], p + QStringLiteral(".as"), QStringLiteral("must be admin or user"));
    }
    if (actions != 1) fail(node, path, QStringLiteral("needs exactly one of fault, recover, setting, scale, mark, burst"));
    return s;
  }

  Expectation expectation(const YAML::Node& node, const QString& path) const {
    onlyKeys(node, path, {"name", "check", "eventually", "always", "at_end"});
    Expectation e;
    e.line = node.Mark().line + 1;
    if (!node["check"]) fail(node, path, QStringLiteral("needs \"check\""));
    e.check = check(node["check"], path + QStringLiteral(".check"));
    e.name = node["name"] ? text(node["name"], path + QStringLiteral(".name")) : e.check.text;
    const int modes = int(bool(node["eventually"])) + int(bool(node["always"])) + int(bool(node["at_end"]));
    if (modes != 1) fail(node, path, QStringLiteral("needs exactly one of eventually, always, at_end"));
    if (const YAML::Node n = node["eventually"]) {
      const QString p = path + QStringLiteral(".eventually");
      onlyKeys(n, p, {"after", "within"});
      e.mode = Expectation::Mode::Eventually;
      if (n["after"]) e.after = text(n["after"], p + QStringLiteral(".after"));
      if (!n["within"]) fail(n, p, QStringLiteral("needs \"within\""));
      e.withinS = duration(n["within"], p + QStringLiteral(".within"));
    } else if (const YAML::Node n = node["always"]) {
      const QString p = path + QStringLiteral(".always");
      onlyKeys(n, p, {"after", "until"});
      e.mode = Expectation::Mode::Always;
      if (n["after"]) e.after = text(n["after"], p + QStringLiteral(".after"));
      if (n["until"]) e.until = text(n["until"], p + QStringLiteral(".until"));
    } else {
      e.mode = Expectation::Mode::AtEnd;
    }
    return e;
  }

  Drill drill(const YAML::Node& root) const {
    onlyKeys(root, {}, {"title", "teaches", "proves", "questions", "profile", "fast", "seed", "load", "hypothesis", "method", "expect", "rollback", "abort", "predict"});
    Drill d;
    d.file = m_file;
    d.id = drillId(m_file);
    if (!root["title"]) fail(root, {}, QStringLiteral("needs \"title\""));
    d.title = text(root["title"], QStringLiteral("title"));
    if (root["teaches"]) d.teaches = text(root["teaches"], QStringLiteral("teaches"));
    if (root["proves"]) d.proves = text(root["proves"], QStringLiteral("proves"));
    if (const YAML::Node q = root["questions"]) {
      if (!q.IsSequence()) fail(q, QStringLiteral("questions"), QStringLiteral("must be a list such as [Q1, Q3]"));
      for (std::size_t i = 0; i < q.size(); ++i) {
        const QString id = text(q[i], QStringLiteral("questions[%1]").arg(i));
        if (!QRegularExpression(QStringLiteral("^Q[1-4]$")).match(id).hasMatch())
          fail(q[i], QStringLiteral("questions[%1]").arg(i), QStringLiteral("must be Q1, Q2, Q3 or Q4"));
        d.questions << id;
      }
    }
    if (root["profile"]) {
      d.profile = text(root["profile"], QStringLiteral("profile"));
      if (d.profile != QLatin1String("any") && d.profile != QLatin1String("full"))
        fail(root["profile"], QStringLiteral("profile"), QStringLiteral("must be any or full"));
    }
    if (root["fast"]) d.fastScale = number(root["fast"], QStringLiteral("fast"), 0.01, 1);
    if (root["seed"]) d.seed = quint32(number(root["seed"], QStringLiteral("seed"), 0, 4294967295.0));

    const YAML::Node load = root["load"];
    if (!load) fail(root, {}, QStringLiteral("needs \"load\" (plan, rate or vus, duration)"));
    onlyKeys(load, QStringLiteral("load"), {"plan", "rate", "vus", "duration"});
    if (load["plan"]) d.load.plan = text(load["plan"], QStringLiteral("load.plan"));
    if (load["rate"]) d.load.rate = number(load["rate"], QStringLiteral("load.rate"), 0.1, 100000);
    if (load["vus"]) d.load.vus = int(number(load["vus"], QStringLiteral("load.vus"), 1, 10000));
    if (!load["duration"]) fail(load, QStringLiteral("load"), QStringLiteral("needs \"duration\""));
    d.load.durationS = duration(load["duration"], QStringLiteral("load.duration"));
    if (d.load.durationS <= 0) fail(load["duration"], QStringLiteral("load.duration"), QStringLiteral("must be > 0"));

    if (const YAML::Node h = root["hypothesis"]) {
      onlyKeys(h, QStringLiteral("hypothesis"), {"warmup", "recovery", "checks"});
      if (h["warmup"]) d.warmupS = duration(h["warmup"], QStringLiteral("hypothesis.warmup"));
      if (h["recovery"]) d.recoveryS = duration(h["recovery"], QStringLiteral("hypothesis.recovery"));
      if (h["checks"]) d.hypothesis = checks(h["checks"], QStringLiteral("hypothesis.checks"));
    }
    std::set<QString> ids;
    auto steps = [&](const char* key, bool timed) {
      QList<Step> out;
      const YAML::Node list = root[key];
      if (!list) return out;
      if (!list.IsSequence()) fail(list, QString::fromLatin1(key), QStringLiteral("must be a list of steps"));
      for (std::size_t i = 0; i < list.size(); ++i) {
        Step s = step(list[i], QStringLiteral("%1[%2]").arg(QString::fromLatin1(key)).arg(i), timed);
        if (!s.id.isEmpty() && !ids.insert(s.id).second)
          fail(list[i], QStringLiteral("%1[%2].id").arg(QString::fromLatin1(key)).arg(i), QStringLiteral("\"%1\" is used twice").arg(s.id));
        out << s;
      }
      return out;
    };
    d.method = steps("method", true);
    if (d.method.isEmpty()) fail(root, {}, QStringLiteral("needs a \"method\" with at least one step"));
    std::stable_sort(d.method.begin(), d.method.end(), [](const Step& a, const Step& b) { return a.atS < b.atS; });
    d.rollback = steps("rollback", false);
    for (const Step& s : d.method) {
      if (s.kind == Step::Kind::Recover && s.recover != QLatin1String("all")) {
        const Step* target = d.step(s.recover);
        if (!target || target->kind != Step::Kind::Fault)
          throw DrillError(m_file, s.line, QStringLiteral("recover: \"%1\" is not the id of a fault step").arg(s.recover));
      }
      if (s.atS > d.load.durationS - d.warmupS)
        throw DrillError(m_file, s.line, QStringLiteral("at: %1 s is after the load ends (duration %2 s - warmup %3 s)").arg(s.atS).arg(d.load.durationS).arg(d.warmupS));
    }

    const YAML::Node expect = root["expect"];
    if (!expect || !expect.IsSequence() || expect.size() == 0) fail(expect ? expect : root, QStringLiteral("expect"), QStringLiteral("needs at least one expectation"));
    for (std::size_t i = 0; i < expect.size(); ++i) {
      Expectation e = expectation(expect[i], QStringLiteral("expect[%1]").arg(i));
      for (const QString& ref : {e.after, e.until}) {
        if (ref != QLatin1String("start") && ref != QLatin1String("end") && !d.step(ref))
          throw DrillError(m_file, e.line, QStringLiteral("expect[%1]: \"%2\" is not a step id (nor start or end)").arg(i).arg(ref));
      }
      d.expectations << e;
    }
    // burst.ID.* probes must name a burst step.
    auto checkBurstProbes = [&](const Check& c, int line) {
      for (const QString& probe : {c.probe, c.valueProbe.value_or(QString())}) {
        const QString name = probe.startsWith(QLatin1String("delta:")) ? probe.mid(6) : probe;
        if (!name.startsWith(QLatin1String("burst."))) continue;
        const QString id = name.section(QLatin1Char('.'), 1, 1);
        const Step* target = d.step(id);
        if (!target || target->kind != Step::Kind::Burst)
          throw DrillError(m_file, line, QStringLiteral("%1: \"%2\" is not the id of a burst step").arg(c.text, id));
      }
    };
    for (const Expectation& e : d.expectations) checkBurstProbes(e.check, e.line);
    for (const Check& c : d.hypothesis) checkBurstProbes(c, c.line);
    if (const YAML::Node a = root["abort"]) {
      onlyKeys(a, QStringLiteral("abort"), {"checks", "for"});
      if (a["checks"]) d.abortChecks = checks(a["checks"], QStringLiteral("abort.checks"));
      if (a["for"]) d.abortForS = duration(a["for"], QStringLiteral("abort.for"));
    }
    if (const YAML::Node list = root["predict"]) {
      if (!list.IsSequence()) fail(list, QStringLiteral("predict"), QStringLiteral("must be a list of predictions"));
      for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node n = list[i];
        const QString p = QStringLiteral("predict[%1]").arg(i);
        onlyKeys(n, p, {"id", "question", "expect", "unit", "tolerance"});
        require(n, p, {"id", "question", "expect", "tolerance"});
        Prediction pr;
        pr.line = n.Mark().line + 1;
        pr.id = text(n["id"], p + QStringLiteral(".id"));
        if (!QRegularExpression(QStringLiteral("^[a-z0-9][a-z0-9-]*$")).match(pr.id).hasMatch())
          fail(n["id"], p + QStringLiteral(".id"), QStringLiteral("must be lower-case letters, digits and dashes"));
        if (d.prediction(pr.id)) fail(n["id"], p + QStringLiteral(".id"), QStringLiteral("\"%1\" is used twice").arg(pr.id));
        pr.question = text(n["question"], p + QStringLiteral(".question"));
        pr.expectation = text(n["expect"], p + QStringLiteral(".expect"));
        if (d.expectationIndex(pr.expectation) < 0)
          fail(n["expect"], p + QStringLiteral(".expect"), QStringLiteral("\"%1\" is not the name of an expectation").arg(pr.expectation));
        if (n["unit"]) pr.unit = text(n["unit"], p + QStringLiteral(".unit"));
        pr.tolerance = number(n["tolerance"], p + QStringLiteral(".tolerance"), 1e-9, 1e12);
        d.predictions << pr;
      }
    }
    return d;
  }

 private:
  QString m_file;
};

}  // namespace

Drill parseDrill(const QByteArray& yaml, const QString& fileName) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml.toStdString());
  } catch (const YAML::Exception& e) {
    throw DrillError(fileName, e.mark.line >= 0 ? e.mark.line + 1 : 0, QStringLiteral("not valid YAML: %1").arg(QString::fromStdString(e.msg)));
  }
  if (!root.IsMap()) throw DrillError(fileName, 1, QStringLiteral("a drill is a YAML mapping (title, load, method, expect, ...)"));
  try {
    return Parser(fileName).drill(root);
  } catch (const YAML::Exception& e) {  // e.g. a scalar where a map was indexed
    throw DrillError(fileName, e.mark.line >= 0 ? e.mark.line + 1 : 0, QString::fromStdString(e.msg));
  }
}

Drill loadDrillFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) throw DrillError(path, 0, QStringLiteral("cannot read: %1").arg(f.errorString()));
  return parseDrill(f.readAll(), path);
}

const Step* Drill::step(const QString& id) const {
  for (const QList<Step>* list : {&method, &rollback})
    for (const Step& s : *list)
      if (!id.isEmpty() && s.id == id) return &s;
  return nullptr;
}

int Drill::expectationIndex(const QString& name) const {
  for (int i = 0; i < expectations.size(); ++i)
    if (expectations[i].name == name) return i;
  return -1;
}

const Prediction* Drill::prediction(const QString& id) const {
  for (const Prediction& p : predictions)
    if (p.id == id) return &p;
  return nullptr;
}

int predictionScore(double predicted, double actual, double tolerance) {
  const double excess = std::abs(predicted - actual) - tolerance;
  if (excess <= 0) return 100;
  return int(std::lround(100.0 * std::max(0.0, 1.0 - excess / (2 * tolerance))));
}

Drill Drill::scaled(double factor) const {
  Drill d = *this;
  auto sc = [factor](double s) { return s * factor; };
  d.load.durationS = sc(d.load.durationS);
  d.warmupS = sc(d.warmupS);
  // recovery is not scaled: it waits for the system's own timers (breaker wait, retry back-off).
  d.abortForS = sc(d.abortForS);
  for (Step& s : d.method) {
    s.atS = sc(s.atS);
    if (s.kind == Step::Kind::Fault) s.fault.durationS = std::max(1, int(std::lround(s.fault.durationS * factor)));
    if (s.kind == Step::Kind::Burst) s.burstDurationS = sc(s.burstDurationS);
  }
  for (Expectation& e : d.expectations) e.withinS = sc(e.withinS);
  return d;
}

QString builtInDrillDir() {
  const QString env = qEnvironmentVariable("MAMBOGO_DATA_DIR");
  if (!env.isEmpty() && QFileInfo::exists(env + QStringLiteral("/drills"))) return env + QStringLiteral("/drills");
  const QString installed = QCoreApplication::applicationDirPath() + QStringLiteral("/../share/mambogo/drills");
  if (QFileInfo::exists(installed)) return QDir::cleanPath(installed);
  return QStringLiteral(MAMBOGO_SOURCE_DIR "/resources/drills");
}

QStringList drillFiles(const QString& dir) {
  QStringList out;
  const QDir d(dir);
  for (const QString& name : d.entryList({QStringLiteral("*.yaml"), QStringLiteral("*.yml")}, QDir::Files, QDir::Name))
    out << d.filePath(name);
  return out;
}

QString findDrill(const QString& name) {
  if (QFileInfo(name).isFile()) return name;
  for (const QString& file : drillFiles(builtInDrillDir()))
    if (drillId(file) == name || QFileInfo(file).completeBaseName() == name) return file;
  return {};
}

}  // namespace mambogo::drill
