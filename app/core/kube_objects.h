// Reading Kubernetes objects as the console shows them: resource quantities, a pod's status
// line as kubectl prints it, label selectors.
//
// Offers pure functions over QJsonObject values (the JSON the API server sends); missing
// fields give neutral values (0, "", false), never an exception.
// Thread-safety: pure functions, any thread.
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <optional>

namespace mambogo::core {

// A resource.Quantity ("250m", "1.5", "128Mi", "1G", "12e3", "100n") as a number in base
// units (cores, bytes); nullopt when malformed.
std::optional<double> parseQuantity(const QString& text);

struct PodStatusSummary {
  QString status;       // what kubectl's STATUS column shows: Running, Pending, ContainerCreating,
                        // CrashLoopBackOff, Completed, Error, Terminating, ...
  int readyContainers = 0;
  int totalContainers = 0;
  int restarts = 0;
  bool ready = false;   // condition Ready=True
};
PodStatusSummary summarizePod(const QJsonObject& pod);

// The object's metadata.creationTimestamp (invalid when absent).
QDateTime creationTime(const QJsonObject& object);
// A label of metadata.labels ("" when absent).
QString labelOf(const QJsonObject& object, const QString& key);
// Whether a LabelSelector (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist)
// selects `labels`. An empty selector selects nothing (as for workloads).
bool selectorMatches(const QJsonObject& selector, const QJsonObject& labels);
// A short age like kubectl's AGE column, one unit only: seconds below 2 min, minutes below
// 2 h, hours below 2 days, then days ("45s", "5m", "3h", "4d"); "" for an invalid time.
QString humanAge(const QDateTime& since, const QDateTime& now);

}  // namespace mambogo::core
