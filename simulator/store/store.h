// The object store of mambogo-cluster: what etcd is to kube-apiserver. Objects are JSON
// documents (exactly what the API serves) keyed by resource, namespace and name; every change
// gets the next cluster-wide resourceVersion and is delivered to watchers in that order.
//
// Resources are named as kubectl names them: plural, then ".group" unless core —
// "pods", "services", "endpoints", "events", "configmaps", "namespaces", "nodes",
// "deployments.apps", "replicasets.apps", "statefulsets.apps",
// "horizontalpodautoscalers.autoscaling", "podchaos.chaos-mesh.org", ...
// Cluster-scoped objects (namespaces, nodes) use the empty namespace.
//
// What the store does to an object (and nothing more; validation beyond names, defaulting
// and subresource rules belong to the API server):
//   create: metadata.uid, creationTimestamp, resourceVersion; generation = 1; namespace
//           stays as given (callers default it).
//   update/mutate: resourceVersion; generation + 1 when anything outside metadata and
//           status changed; uid, creationTimestamp and generation cannot be changed by the
//           caller. An update whose result equals the stored object is a no-op (no new
//           resourceVersion, no event) — controllers can write status unconditionally.
//   remove: the object leaves at once (no finalizers); watchers get DELETED with a new
//           resourceVersion.
//
// Persistence: with a directory, every change is appended to <dir>/journal.jsonl and the
// journal is compacted into <dir>/snapshot.json when opened; a restarted store has the same
// objects and continues the resourceVersion sequence. Without a directory, memory only.
//
// Watch delivery: a callback runs on the thread that made the change, after the change, in
// resourceVersion order across all threads (writers are serialized). It must be quick and
// must NOT change the store (post to your own queue instead — the informer pattern); doing
// so throws std::logic_error. It may read (get/list).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace mambogo::sim {

using Json = nlohmann::json;

struct ObjectRef {
  std::string resource;   // "pods", "deployments.apps", ...
  std::string ns;         // empty for cluster-scoped resources
  std::string name;
  auto operator<=>(const ObjectRef&) const = default;
};

// A failed store operation, with the Kubernetes Status reason and HTTP code it maps to.
class StoreError : public std::runtime_error {
 public:
  enum class Reason { not_found, already_exists, conflict, invalid, gone };
  StoreError(Reason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  Reason reason() const { return reason_; }
  const char* status_reason() const;  // "NotFound", "AlreadyExists", "Conflict", "Invalid", "Expired"
  int code() const;                   // 404, 409, 409, 422, 410

 private:
  Reason reason_;
};

enum class EventType { added, modified, deleted };
const char* to_string(EventType type);  // "ADDED", "MODIFIED", "DELETED"

struct WatchEvent {
  EventType type;
  std::string resource;
  Json object;  // after the change; for DELETED the object as it was, with the deletion's resourceVersion
  std::uint64_t resource_version;
};

class Store {
 public:
  using WatchFn = std::function<void(const WatchEvent&)>;
  struct List {
    std::vector<Json> items;             // sorted by namespace, then name
    std::uint64_t resource_version = 0;  // the store's version when listed
  };

  // dir empty: memory only. Throws std::runtime_error when the directory cannot be used.
  explicit Store(std::filesystem::path dir = {}, std::size_t history = 10'000);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Throws StoreError (already_exists; invalid for a bad or missing metadata.name).
  Json create(const std::string& resource, Json object);

  // Replaces the object named by object.metadata. If object.metadata.resourceVersion is set it
  // must equal the stored one (conflict otherwise). Throws not_found, conflict, invalid.
  Json update(const std::string& resource, Json object);

  // Read-modify-write under the store's lock: no lost updates, no conflicts. `change` edits
  // the stored object in place; throwing from it aborts with nothing changed. Throws not_found.
  Json mutate(const ObjectRef& ref, const std::function<void(Json&)>& change);

  std::optional<Json> get(const ObjectRef& ref) const;

  // ns empty: every namespace. `filter` (optional) keeps the objects it returns true for.
  List list(const std::string& resource, const std::string& ns = {},
            const std::function<bool(const Json&)>& filter = {}) const;

  // Removes the object; returns it as deleted. Throws not_found. With expected_uid, removes it
  // only if the uid still matches (conflict otherwise: a replacement with the same name).
  Json remove(const ObjectRef& ref, const std::optional<std::string>& expected_uid = std::nullopt);

  // Watches `resource` (ns empty: all namespaces). since == 0: changes from now on. since > 0:
  // first replays the retained changes with resourceVersion > since (throws gone when changes
  // after `since` are no longer retained), then continues live. Returns an id for unwatch().
  std::uint64_t watch(const std::string& resource, const std::string& ns, std::uint64_t since, WatchFn fn);
  // After unwatch returns, the callback is not running and never runs again (unless called
  // from within that callback, where it just won't run again).
  void unwatch(std::uint64_t id);

  std::uint64_t resource_version() const;

  // Validates a DNS-1123 subdomain (names of most objects): lowercase alphanumerics, '-'
  // and '.', at most 253 characters, starting and ending alphanumeric.
  static bool valid_name(const std::string& name);

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // resource, ns, name
  struct Watcher {
    std::string resource;
    std::string ns;
    WatchFn fn;
  };

  Json commit_locked(const std::string& resource, EventType type, Json object);
  void deliver(const WatchEvent& event);
  void append_journal(const WatchEvent& event);
  void load();

  std::filesystem::path dir_;
  std::size_t history_limit_;
  std::ofstream journal_;

  // Writers hold write_mutex_ for the change and its delivery, so events are delivered in
  // resourceVersion order; data_mutex_ guards objects_ for readers (callbacks may read).
  mutable std::recursive_mutex write_mutex_;
  mutable std::shared_mutex data_mutex_;
  std::map<Key, Json> objects_;
  std::uint64_t version_ = 0;
  std::deque<WatchEvent> history_;
  std::map<std::uint64_t, Watcher> watchers_;
  std::uint64_t next_watch_id_ = 1;
};

// Helpers for the metadata every object has.
inline const Json& metadata_of(const Json& object) {
  static const Json empty = Json::object();
  auto m = object.find("metadata");
  return m != object.end() && m->is_object() ? *m : empty;
}
std::string name_of(const Json& object);
std::string namespace_of(const Json& object);
std::uint64_t resource_version_of(const Json& object);  // 0 when absent or not a number string
ObjectRef ref_of(const std::string& resource, const Json& object);

// RFC 3339 UTC time with seconds ("2026-11-27T10:00:00Z") — Kubernetes' metav1.Time.
std::string now_rfc3339();

}  // namespace mambogo::sim
