#include "controllers/object_util.h"

#include "store/events.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>

namespace mambogo::sim::ctl {

std::optional<TimePoint> parse_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  TimePoint t = std::chrono::system_clock::from_time_t(timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < text.size() && text[i] == '.') {  // fractional seconds
    ++i;
    double scale = 0.1, fraction = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      fraction += (text[i++] - '0') * scale;
      scale /= 10;
    }
    t += std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(fraction));
  }
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    const auto offset = std::chrono::hours(hours) + std::chrono::minutes(minutes);
    t = text[i] == '+' ? t - offset : t + offset;
  } else if (i >= text.size() || (text[i] != 'Z' && text[i] != 'z')) {
    return std::nullopt;
  }
  return t;
}

std::optional<TimePoint> parse_time_value(const Json& value) {
  return value.is_string() ? parse_time(value.get<std::string>()) : std::nullopt;
}

std::string format_time(TimePoint time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string uid_of(const Json& object) { return metadata_of(object).value("uid", ""); }

bool is_deleting(const Json& object) {
  auto it = metadata_of(object).find("deletionTimestamp");
  return it != metadata_of(object).end() && !it->is_null();
}

const Json* controller_ref(const Json& object) {
  auto refs = metadata_of(object).find("ownerReferences");
  if (refs == metadata_of(object).end() || !refs->is_array()) return nullptr;
  for (const Json& ref : *refs)
    if (ref.value("controller", false)) return &ref;
  return nullptr;
}

Json make_controller_ref(const std::string& resource, const Json& owner) {
  const KindInfo kind = kind_of(resource);
  return Json{{"apiVersion", kind.api_version}, {"kind", kind.kind},     {"name", name_of(owner)},
              {"uid", uid_of(owner)},           {"controller", true},    {"blockOwnerDeletion", true}};
}

bool controlled_by(const Json& object, const std::string& owner_uid) {
  const Json* ref = controller_ref(object);
  return ref != nullptr && ref->value("uid", "") == owner_uid;
}

const Json* pod_condition(const Json& pod, const std::string& type) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->contains("conditions") || !(*status)["conditions"].is_array()) return nullptr;
  for (const Json& c : (*status)["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

bool is_pod_ready(const Json& pod) {
  const Json* c = pod_condition(pod, "Ready");
  return c != nullptr && c->value("status", "") == "True";
}

bool is_pod_active(const Json& pod) {
  if (is_deleting(pod)) return false;
  const std::string phase = pod.contains("status") ? pod["status"].value("phase", "") : "";
  return phase != "Succeeded" && phase != "Failed";
}

std::optional<TimePoint> pod_available_at(const Json& pod, std::int32_t min_ready_seconds) {
  if (!is_pod_ready(pod)) return std::nullopt;
  if (min_ready_seconds == 0) return TimePoint{};
  const Json* c = pod_condition(pod, "Ready");
  auto since = parse_time_value(c->value("lastTransitionTime", Json()));
  if (!since) return TimePoint{};  // no transition time: treat as available (k8s: zero time)
  return *since + std::chrono::seconds(min_ready_seconds);
}

bool is_pod_available(const Json& pod, std::int32_t min_ready_seconds, TimePoint now) {
  auto at = pod_available_at(pod, min_ready_seconds);
  return at && *at <= now;
}

void delete_pod(Store& store, const Json& pod) {
  if (is_deleting(pod)) return;
  const Json& spec = pod.contains("spec") ? pod["spec"] : Json::object();
  const std::int64_t grace = spec.value("terminationGracePeriodSeconds", std::int64_t{30});
  const Json& status = pod.contains("status") ? pod["status"] : Json::object();
  const std::string phase = status.value("phase", "");
  const bool never_ran = !status.contains("startTime");
  const ObjectRef ref = ref_of("pods", pod);
  try {
    if (grace <= 0 || never_ran || phase == "Succeeded" || phase == "Failed") {
      store.remove(ref, uid_of(pod));
      return;
    }
    const std::string uid = uid_of(pod);
    store.mutate(ref, [&](Json& p) {
      if (uid_of(p) != uid || is_deleting(p)) return;
      p["metadata"]["deletionTimestamp"] = format_time(std::chrono::system_clock::now() + std::chrono::seconds(grace));
      p["metadata"]["deletionGracePeriodSeconds"] = grace;
    });
  } catch (const StoreError& e) {
    if (e.reason() != StoreError::Reason::not_found && e.reason() != StoreError::Reason::conflict) throw;
  }
}

void record(Store& store, const std::string& resource, const Json& object, const std::string& type,
            const std::string& reason, const std::string& message, const std::string& component) {
  try {
    record_event(store, resource, object, type, reason, message, component);
  } catch (const std::exception& e) {
    spdlog::warn("{}: could not record event {} for {}: {}", component, reason, name_of(object), e.what());
  }
}

}  // namespace mambogo::sim::ctl
