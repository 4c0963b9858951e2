#include "controllers/deployment_util.h"

#include "objects/selector.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace mambogo::sim::deploy {
namespace {

using Json = nlohmann::json;

std::int32_t int_or(const Json& object, const char* key, std::int32_t fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) throw std::invalid_argument(std::string("spec.") + key + " must be an integer");
  return it->get<std::int32_t>();
}

std::int32_t sum_replicas(const std::vector<RsView>& rss) {
  std::int32_t sum = 0;
  for (const RsView& rs : rss) sum += rs.replicas;
  return sum;
}

bool older(const RsView& a, const RsView& b) {
  return a.created != b.created ? a.created < b.created : a.name < b.name;
}

std::vector<RsView> active(const std::vector<RsView>& rss) {
  std::vector<RsView> out;
  for (const RsView& rs : rss)
    if (rs.replicas > 0) out.push_back(rs);
  return out;
}

// Collapses several steps on one ReplicaSet into a single action from its first to its last size.
void push_action(std::vector<ScaleAction>& actions, const std::string& name, std::int32_t from, std::int32_t to) {
  for (ScaleAction& a : actions) {
    if (a.name == name) {
      a.to = to;
      return;
    }
  }
  actions.push_back({name, from, to});
}

std::int32_t round_to_int32(double a) {
  return a < 0 ? static_cast<std::int32_t>(a - 0.5) : static_cast<std::int32_t>(a + 0.5);
}

std::int32_t proportion(const Params& p, std::int32_t status_replicas, const RsView& rs, std::int32_t to_add,
                        std::int32_t added) {
  if (rs.replicas == 0 || to_add == 0 || to_add == added) return 0;
  std::int32_t fraction;
  if (p.replicas == 0) {
    fraction = -rs.replicas;
  } else {
    const std::int32_t deployment_replicas = p.replicas + p.max_surge;
    const std::int32_t annotated = rs.max_replicas_annotation.value_or(status_replicas);
    fraction = annotated == 0 ? 0
                              : round_to_int32(static_cast<double>(rs.replicas) * deployment_replicas / annotated) -
                                    rs.replicas;
  }
  const std::int32_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

}  // namespace

Fenceposts resolve_fenceposts(const Json& max_surge, const Json& max_unavailable, std::int32_t desired) {
  auto resolve = [&](const Json& value, bool round_up, const char* field) {
    if (value.is_null()) return 0;
    try {
      return resolve_int_or_percent(value, desired, round_up);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("spec.strategy.rollingUpdate.") + field + ": " + e.what());
    }
  };
  Fenceposts f{resolve(max_surge, true, "maxSurge"), resolve(max_unavailable, false, "maxUnavailable")};
  if (f.max_surge < 0 || f.max_unavailable < 0)
    throw std::invalid_argument("spec.strategy.rollingUpdate: maxSurge and maxUnavailable must not be negative");
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  f.max_unavailable = std::min(f.max_unavailable, desired);
  return f;
}

Params params_of(const Json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("spec must be an object");
  Params p;
  p.replicas = int_or(spec, "replicas", 1);
  p.min_ready_seconds = int_or(spec, "minReadySeconds", 0);
  p.revision_history_limit = int_or(spec, "revisionHistoryLimit", 10);
  p.progress_deadline_seconds = int_or(spec, "progressDeadlineSeconds", 600);
  if (*p.progress_deadline_seconds == INT32_MAX) p.progress_deadline_seconds.reset();  // "no deadline" (math.MaxInt32)
  p.paused = spec.value("paused", false);
  const Json strategy = spec.value("strategy", Json::object());
  const std::string type = strategy.value("type", "RollingUpdate");
  if (type == "Recreate") {
    p.rolling = false;
    return p;
  }
  if (type != "RollingUpdate") throw std::invalid_argument("spec.strategy.type must be RollingUpdate or Recreate, not \"" + type + "\"");
  const Json rolling = strategy.value("rollingUpdate", Json::object());
  const Json surge = rolling.contains("maxSurge") ? rolling.at("maxSurge") : Json("25%");
  const Json unavailable = rolling.contains("maxUnavailable") ? rolling.at("maxUnavailable") : Json("25%");
  const Fenceposts f = resolve_fenceposts(surge, unavailable, p.replicas);
  p.max_surge = f.max_surge;
  p.max_unavailable = p.replicas == 0 ? 0 : f.max_unavailable;
  return p;
}

std::string template_hash(const Json& pod_template, std::optional<std::int32_t> collision_count) {
  std::uint32_t hash = 2166136261u;  // FNV-32a offset basis
  auto feed = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 16777619u;
  };
  for (unsigned char c : pod_template.dump()) feed(c);
  if (collision_count) {
    const auto value = static_cast<std::uint32_t>(*collision_count);
    for (int i = 0; i < 8; ++i) feed(i < 4 ? static_cast<unsigned char>(value >> (8 * i)) : 0);
  }
  static const std::string alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char digit : std::to_string(hash)) out += alphabet[static_cast<unsigned char>(digit) % alphabet.size()];
  return out;
}

bool equal_ignore_hash(const Json& a, const Json& b) {
  auto strip = [](Json t) {
    if (t.contains("metadata") && t["metadata"].contains("labels")) {
      t["metadata"]["labels"].erase(kPodTemplateHashLabel);
      if (t["metadata"]["labels"].empty()) t["metadata"].erase("labels");
    }
    return t;
  };
  return strip(a) == strip(b);
}

std::int32_t new_rs_new_replicas(const Params& p, std::int32_t all_replicas, std::int32_t new_rs_replicas) {
  if (!p.rolling) return p.replicas;
  const std::int32_t max_total = p.replicas + p.max_surge;
  if (all_replicas >= max_total) return new_rs_replicas;
  const std::int32_t scale_up = std::min(max_total - all_replicas, p.replicas - new_rs_replicas);
  return new_rs_replicas + scale_up;
}

std::vector<ScaleAction> plan_rolling(const Params& p, const RsView& new_rs, std::vector<RsView> old_rss) {
  std::vector<ScaleAction> actions;
  // reconcileNewReplicaSet
  if (new_rs.replicas > p.replicas) {
    push_action(actions, new_rs.name, new_rs.replicas, p.replicas);
    return actions;
  }
  if (new_rs.replicas < p.replicas) {
    const std::int32_t count = new_rs_new_replicas(p, sum_replicas(old_rss) + new_rs.replicas, new_rs.replicas);
    if (count != new_rs.replicas) {
      push_action(actions, new_rs.name, new_rs.replicas, count);
      return actions;
    }
  }
  // reconcileOldReplicaSets
  if (sum_replicas(old_rss) == 0) return actions;
  const std::int32_t all_pods = sum_replicas(old_rss) + new_rs.replicas;
  const std::int32_t min_available = p.replicas - p.max_unavailable;
  const std::int32_t new_unavailable = new_rs.replicas - new_rs.available;
  const std::int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return actions;

  // cleanupUnhealthyReplicas: old replicas that are not available go first.
  std::sort(old_rss.begin(), old_rss.end(), older);
  std::int32_t cleaned = 0;
  for (RsView& rs : old_rss) {
    if (cleaned >= max_scaled_down) break;
    if (rs.replicas == 0 || rs.replicas == rs.available) continue;
    const std::int32_t count = std::min(max_scaled_down - cleaned, rs.replicas - rs.available);
    push_action(actions, rs.name, rs.replicas, rs.replicas - count);
    rs.replicas -= count;
    cleaned += count;
  }

  // scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available pods.
  std::int32_t available = new_rs.available;
  for (const RsView& rs : old_rss) available += rs.available;
  if (available <= min_available) return actions;
  const std::int32_t total = available - min_available;
  std::int32_t scaled = 0;
  for (RsView& rs : old_rss) {
    if (scaled >= total) break;
    if (rs.replicas == 0) continue;
    const std::int32_t count = std::min(rs.replicas, total - scaled);
    push_action(actions, rs.name, rs.replicas, rs.replicas - count);
    rs.replicas -= count;
    scaled += count;
  }
  return actions;
}

std::vector<ScaleAction> plan_scale(const Params& p, std::int32_t status_replicas, const std::optional<RsView>& new_rs,
                                    std::vector<RsView> old_rss) {
  std::vector<ScaleAction> actions;
  if (!new_rs && old_rss.empty()) return actions;

  // FindActiveOrLatest
  std::sort(old_rss.begin(), old_rss.end(), [](const RsView& a, const RsView& b) { return older(b, a); });
  std::vector<RsView> all = old_rss;
  if (new_rs) all.push_back(*new_rs);
  std::vector<RsView> live = active(all);
  std::optional<RsView> active_or_latest;
  if (live.empty()) active_or_latest = new_rs ? *new_rs : old_rss.front();
  else if (live.size() == 1) active_or_latest = live.front();
  if (active_or_latest) {
    if (active_or_latest->replicas != p.replicas) push_action(actions, active_or_latest->name, active_or_latest->replicas, p.replicas);
    return actions;
  }

  // IsSaturated(new): the old ones go to zero.
  if (new_rs && new_rs->replicas == p.replicas && new_rs->desired_replicas_annotation == p.replicas &&
      new_rs->available == p.replicas) {
    for (const RsView& rs : active(old_rss)) push_action(actions, rs.name, rs.replicas, 0);
    return actions;
  }
  if (!p.rolling) return actions;

  // Proportional scaling: larger RSs first; newer first when adding, older first when removing.
  const std::int32_t allowed = p.replicas > 0 ? p.replicas + p.max_surge : 0;
  const std::int32_t to_add = allowed - sum_replicas(live);
  if (to_add > 0) {
    std::sort(live.begin(), live.end(), [](const RsView& a, const RsView& b) {
      return a.replicas != b.replicas ? a.replicas > b.replicas : older(b, a);
    });
  } else if (to_add < 0) {
    std::sort(live.begin(), live.end(), [](const RsView& a, const RsView& b) {
      return a.replicas != b.replicas ? a.replicas > b.replicas : older(a, b);
    });
  }
  std::int32_t added = 0;
  std::vector<std::int32_t> sizes;
  for (const RsView& rs : live) {
    const std::int32_t share = proportion(p, status_replicas, rs, to_add, added);
    sizes.push_back(rs.replicas + share);
    added += share;
  }
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (i == 0 && to_add != 0) sizes[0] = std::max(0, sizes[0] + to_add - added);  // leftovers to the largest
    push_action(actions, live[i].name, live[i].replicas, sizes[i]);
  }
  return actions;
}

}  // namespace mambogo::sim::deploy
