#include "core/kube_objects.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <cmath>

namespace mambogo::core {

namespace {
QJsonObject obj(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toObject(); }
QJsonArray arr(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toArray(); }
QString str(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toString(); }
}  // namespace

std::optional<double> parseQuantity(const QString& text) {
  static const QRegularExpression re(QStringLiteral("^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"));
  const auto m = re.match(text.trimmed());
  if (!m.hasMatch()) return std::nullopt;
  bool ok = false;
  const double number = m.captured(1).toDouble(&ok);
  if (!ok) return std::nullopt;
  const QString suffix = m.captured(2);
  static const QHash<QString, double> scale = {
      {QStringLiteral("n"), 1e-9}, {QStringLiteral("u"), 1e-6}, {QStringLiteral("m"), 1e-3},
      {QStringLiteral("k"), 1e3},  {QStringLiteral("M"), 1e6},  {QStringLiteral("G"), 1e9},
      {QStringLiteral("T"), 1e12}, {QStringLiteral("P"), 1e15}, {QStringLiteral("E"), 1e18},
      {QStringLiteral("Ki"), 1024.0}, {QStringLiteral("Mi"), std::pow(1024.0, 2)}, {QStringLiteral("Gi"), std::pow(1024.0, 3)},
      {QStringLiteral("Ti"), std::pow(1024.0, 4)}, {QStringLiteral("Pi"), std::pow(1024.0, 5)}, {QStringLiteral("Ei"), std::pow(1024.0, 6)}};
  return suffix.isEmpty() ? number : number * scale.value(suffix);
}

PodStatusSummary summarizePod(const QJsonObject& pod) {
  PodStatusSummary s;
  const QJsonObject status = obj(pod, "status");
  s.status = str(status, "reason").isEmpty() ? str(status, "phase") : str(status, "reason");
  if (s.status.isEmpty()) s.status = QStringLiteral("Pending");
  const QJsonArray specContainers = arr(obj(pod, "spec"), "containers");
  const QJsonArray containers = arr(status, "containerStatuses");
  s.totalContainers = static_cast<int>(std::max(specContainers.size(), containers.size()));
  // As kubectl: the last container with a waiting or terminated reason names the status.
  for (const QJsonValue& v : containers) {
    const QJsonObject c = v.toObject();
    s.restarts += c.value(QLatin1String("restartCount")).toInt();
    if (c.value(QLatin1String("ready")).toBool()) ++s.readyContainers;
    const QJsonObject state = obj(c, "state");
    if (const QString waiting = str(obj(state, "waiting"), "reason"); !waiting.isEmpty()) {
      s.status = waiting;
    } else if (state.contains(QLatin1String("terminated"))) {
      const QJsonObject t = obj(state, "terminated");
      s.status = !str(t, "reason").isEmpty() ? str(t, "reason")
                                              : QStringLiteral("ExitCode:%1").arg(t.value(QLatin1String("exitCode")).toInt());
    }
  }
  for (const QJsonValue& v : arr(status, "conditions")) {
    const QJsonObject c = v.toObject();
    if (str(c, "type") == QLatin1String("Ready")) s.ready = str(c, "status") == QLatin1String("True");
  }
  if (s.status == QLatin1String("Running") && !s.ready && s.readyContainers == s.totalContainers && s.totalContainers > 0)
    s.ready = true;  // servers that report no conditions
  if (!obj(pod, "metadata").value(QLatin1String("deletionTimestamp")).toString().isEmpty())
    s.status = QStringLiteral("Terminating");
  return s;
}

QDateTime creationTime(const QJsonObject& object) {
  return QDateTime::fromString(str(obj(object, "metadata"), "creationTimestamp"), Qt::ISODate);
}

QString labelOf(const QJsonObject& object, const QString& key) {
  return obj(obj(object, "metadata"), "labels").value(key).toString();
}

bool selectorMatches(const QJsonObject& selector, const QJsonObject& labels) {
  const QJsonObject matchLabels = obj(selector, "matchLabels");
  const QJsonArray expressions = arr(selector, "matchExpressions");
  if (matchLabels.isEmpty() && expressions.isEmpty()) return false;
  for (auto it = matchLabels.begin(); it != matchLabels.end(); ++it)
    if (labels.value(it.key()).toString() != it.value().toString()) return false;
  for (const QJsonValue& v : expressions) {
    const QJsonObject e = v.toObject();
    const QString key = str(e, "key"), op = str(e, "operator");
    const bool has = labels.contains(key);
    bool inValues = false;
    for (const QJsonValue& value : arr(e, "values")) inValues = inValues || (has && labels.value(key).toString() == value.toString());
    if (op == QLatin1String("In") && !inValues) return false;
    if (op == QLatin1String("NotIn") && inValues) return false;
    if (op == QLatin1String("Exists") && !has) return false;
    if (op == QLatin1String("DoesNotExist") && has) return false;
  }
  return true;
}

QString humanAge(const QDateTime& since, const QDateTime& now) {
  if (!since.isValid() || !now.isValid()) return {};
  const qint64 s = std::max<qint64>(0, since.secsTo(now));
  if (s < 120) return QStringLiteral("%1s").arg(s);
  if (s < 3600 * 2) return QStringLiteral("%1m").arg(s / 60);
  if (s < 86400 * 2) return QStringLiteral("%1h").arg(s / 3600);
  return QStringLiteral("%1d").arg(s / 86400);
}

}  // namespace mambogo::core
