#include "store/store.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

namespace mambogo::sim {

namespace {

// Set while a watch callback runs on this thread: changing the store from there would deliver
// events out of order to the other watchers.
thread_local int delivering = 0;

void forbid_change_in_callback() {
  if (delivering > 0) throw std::logic_error("the store cannot be changed from a watch callback");
}

std::string new_uid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<unsigned> nibble(0, 15);
  std::string uid = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  static constexpr char hex[] = "0123456789abcdef";
  for (char& c : uid) {
    if (c == 'x') c = hex[nibble(rng)];
    else if (c == 'y') c = hex[8 + nibble(rng) % 4];
  }
  return uid;
}

// The parts of an object whose change bumps metadata.generation: all but metadata and status.
bool spec_changed(const Json& before, const Json& after) {
  auto strip = [](Json o) {
    o.erase("metadata");
    o.erase("status");
    return o;
  };
  return strip(before) != strip(after);
}

}  // namespace

const char* StoreError::status_reason() const {
  switch (reason_) {
    case Reason::not_found: return "NotFound";
    case Reason::already_exists: return "AlreadyExists";
    case Reason::conflict: return "Conflict";
    case Reason::invalid: return "Invalid";
    case Reason::gone: return "Expired";
  }
  return "InternalError";
}

int StoreError::code() const {
  switch (reason_) {
    case Reason::not_found: return 404;
    case Reason::already_exists:
    case Reason::conflict: return 409;
    case Reason::invalid: return 422;
    case Reason::gone: return 410;
  }
  return 500;
}

const char* to_string(EventType type) {
  switch (type) {
    case EventType::added: return "ADDED";
    case EventType::modified: return "MODIFIED";
    case EventType::deleted: return "DELETED";
  }
  return "ERROR";
}

std::string name_of(const Json& object) { return metadata_of(object).value("name", std::string()); }
std::string namespace_of(const Json& object) { return metadata_of(object).value("namespace", std::string()); }

std::uint64_t resource_version_of(const Json& object) {
  const auto& m = metadata_of(object);
  auto rv = m.find("resourceVersion");
  if (rv == m.end() || !rv->is_string()) return 0;
  try {
    std::size_t used = 0;
    auto value = std::stoull(rv->get<std::string>(), &used);
    return used == rv->get<std::string>().size() ? value : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

ObjectRef ref_of(const std::string& resource, const Json& object) {
  return {resource, namespace_of(object), name_of(object)};
}

std::string now_rfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool Store::valid_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

Store::Store(std::filesystem::path dir, std::size_t history) : dir_(std::move(dir)), history_limit_(history) {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("store: cannot create " + dir_.string() + ": " + ec.message());
  load();
}

Store::~Store() = default;

// Reads snapshot.json and replays journal.jsonl (a torn last line from a crash is ignored),
// then writes a fresh snapshot and starts an empty journal.
void Store::load() {
  const auto snapshot = dir_ / "snapshot.json";
  const auto journal = dir_ / "journal.jsonl";
  if (std::ifstream in{snapshot}) {
    Json doc = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object())
      throw std::runtime_error("store: " + snapshot.string() + " is not a valid snapshot");
    version_ = doc.value("resourceVersion", std::uint64_t{0});
    for (const auto& entry : doc.value("objects", Json::array())) {
      const std::string resource = entry.at("resource");
      const Json& object = entry.at("object");
      objects_[{resource, namespace_of(object), name_of(object)}] = object;
    }
  }
  if (std::ifstream in{journal}) {
    std::string line;
    while (std::getline(in, line)) {
      Json change = Json::parse(line, nullptr, false);
      if (change.is_discarded() || !change.is_object()) break;  // torn write at a crash
      const std::string resource = change.value("resource", "");
      const std::string type = change.value("type", "");
      const Json& object = change["object"];
      const Key key{resource, namespace_of(object), name_of(object)};
      if (type == "DELETED") objects_.erase(key);
      else objects_[key] = object;
      version_ = std::max(version_, change.value("rv", std::uint64_t{0}));
    }
  }
  Json doc{{"resourceVersion", version_}, {"objects", Json::array()}};
  for (const auto& [key, object] : objects_)
    doc["objects"].push_back({{"resource", std::get<0>(key)}, {"object", object}});
  {
    const auto temporary = dir_ / "snapshot.json.tmp";
    std::ofstream out{temporary, std::ios::trunc};
    out << doc.dump();
    out.close();
    if (!out) throw std::runtime_error("store: cannot write " + temporary.string());
    std::filesystem::rename(temporary, snapshot);
  }
  journal_.open(journal, std::ios::trunc);
  if (!journal_) throw std::runtime_error("store: cannot write " + journal.string());
}

void Store::append_journal(const WatchEvent& event) {
  if (!journal_.is_open()) return;
  journal_ << Json{{"rv", event.resource_version}, {"type", to_string(event.type)},
                   {"resource", event.resource}, {"object", event.object}}
                  .dump()
           << '\n';
  journal_.flush();
}

// Stamps the next resourceVersion, stores or erases the object, records the change. Caller
// holds write_mutex_ (not data_mutex_).
Json Store::commit_locked(const std::string& resource, EventType type, Json object) {
  {
    std::unique_lock data(data_mutex_);
    const std::uint64_t rv = ++version_;
    object["metadata"]["resourceVersion"] = std::to_string(rv);
    const Key key{resource, namespace_of(object), name_of(object)};
    if (type == EventType::deleted) objects_.erase(key);
    else objects_[key] = object;
    history_.push_back({type, resource, object, rv});
    while (history_.size() > history_limit_) history_.pop_front();
  }
  append_journal(history_.back());
  deliver(history_.back());
  return object;
}

void Store::deliver(const WatchEvent& event) {
  // Copy: a callback may unwatch (itself or another) while we iterate.
  std::vector<std::pair<std::uint64_t, WatchFn>> targets;
  for (const auto& [id, w] : watchers_)
    if (w.resource == event.resource && (w.ns.empty() || w.ns == namespace_of(event.object)))
      targets.emplace_back(id, w.fn);
  ++delivering;
  try {
    for (const auto& [id, fn] : targets)
      if (watchers_.count(id)) fn(event);
  } catch (...) {
    --delivering;
    throw;
  }
  --delivering;
}

Json Store::create(const std::string& resource, Json object) {
  forbid_change_in_callback();
  if (!object.is_object()) throw StoreError(StoreError::Reason::invalid, "the object is not a JSON object");
  const std::string name = name_of(object);
  if (!valid_name(name))
    throw StoreError(StoreError::Reason::invalid,
                     "metadata.name: Invalid value: \"" + name +
                         "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                         "'-' or '.', and must start and end with an alphanumeric character");
  std::lock_guard write(write_mutex_);
  if (get({resource, namespace_of(object), name}))
    throw StoreError(StoreError::Reason::already_exists, resource + " \"" + name + "\" already exists");
  auto& meta = object["metadata"];
  meta["uid"] = new_uid();
  meta["creationTimestamp"] = now_rfc3339();
  meta["generation"] = 1;
  return commit_locked(resource, EventType::added, std::move(object));
}

Json Store::update(const std::string& resource, Json object) {
  forbid_change_in_callback();
  if (!object.is_object()) throw StoreError(StoreError::Reason::invalid, "the object is not a JSON object");
  std::lock_guard write(write_mutex_);
  const ObjectRef ref = ref_of(resource, object);
  auto current = get(ref);
  if (!current) throw StoreError(StoreError::Reason::not_found, resource + " \"" + ref.name + "\" not found");
  const auto& meta = metadata_of(object);
  if (meta.contains("resourceVersion") && meta["resourceVersion"] != (*current)["metadata"]["resourceVersion"])
    throw StoreError(StoreError::Reason::conflict,
                     "Operation cannot be fulfilled on " + resource + " \"" + ref.name +
                         "\": the object has been modified; please apply your changes to the latest version and try again");
  auto& m = object["metadata"];
  for (const char* kept : {"uid", "creationTimestamp", "generation", "resourceVersion"}) {
    if (current->at("metadata").contains(kept)) m[kept] = current->at("metadata").at(kept);
    else m.erase(kept);
  }
  if (object == *current) return object;
  if (spec_changed(*current, object)) m["generation"] = m.value("generation", 0) + 1;
  return commit_locked(resource, EventType::modified, std::move(object));
}

Json Store::mutate(const ObjectRef& ref, const std::function<void(Json&)>& change) {
  forbid_change_in_callback();
  std::lock_guard write(write_mutex_);
  auto current = get(ref);
  if (!current) throw StoreError(StoreError::Reason::not_found, ref.resource + " \"" + ref.name + "\" not found");
  Json object = *current;
  change(object);
  if (!object.is_object() || name_of(object) != ref.name || namespace_of(object) != ref.ns)
    throw StoreError(StoreError::Reason::invalid, "a change may not rename an object or move it to another namespace");
  auto& m = object["metadata"];
  for (const char* kept : {"uid", "creationTimestamp", "generation", "resourceVersion"})
    if (current->at("metadata").contains(kept)) m[kept] = current->at("metadata").at(kept);
  if (object == *current) return object;
  if (spec_changed(*current, object)) m["generation"] = m.value("generation", 0) + 1;
  return commit_locked(ref.resource, EventType::modified, std::move(object));
}

std::optional<Json> Store::get(const ObjectRef& ref) const {
  std::shared_lock data(data_mutex_);
  auto it = objects_.find({ref.resource, ref.ns, ref.name});
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

Store::List Store::list(const std::string& resource, const std::string& ns,
                        const std::function<bool(const Json&)>& filter) const {
  std::shared_lock data(data_mutex_);
  List result;
  result.resource_version = version_;
  auto it = objects_.lower_bound({resource, ns, ""});
  for (; it != objects_.end() && std::get<0>(it->first) == resource; ++it) {
    if (!ns.empty() && std::get<1>(it->first) != ns) break;
    if (!filter || filter(it->second)) result.items.push_back(it->second);
  }
  return result;
}

Json Store::remove(const ObjectRef& ref, const std::optional<std::string>& expected_uid) {
  forbid_change_in_callback();
  std::lock_guard write(write_mutex_);
  auto current = get(ref);
  if (!current) throw StoreError(StoreError::Reason::not_found, ref.resource + " \"" + ref.name + "\" not found");
  if (expected_uid && metadata_of(*current).value("uid", "") != *expected_uid)
    throw StoreError(StoreError::Reason::conflict,
                     ref.resource + " \"" + ref.name + "\" was replaced (its uid is not " + *expected_uid + ")");
  return commit_locked(ref.resource, EventType::deleted, std::move(*current));
}

std::uint64_t Store::watch(const std::string& resource, const std::string& ns, std::uint64_t since, WatchFn fn) {
  std::lock_guard write(write_mutex_);
  if (since > 0 && since < version_) {
    // Every change after `since` must still be retained: the oldest retained is since + 1 or older.
    if (history_.empty() || history_.front().resource_version > since + 1)
      throw StoreError(StoreError::Reason::gone, "too old resource version: " + std::to_string(since) + " (" +
                                                     std::to_string(history_.empty() ? version_ : history_.front().resource_version - 1) + ")");
    ++delivering;
    try {
      for (const auto& event : history_)
        if (event.resource_version > since && event.resource == resource &&
            (ns.empty() || ns == namespace_of(event.object)))
          fn(event);
    } catch (...) {
      --delivering;
      throw;
    }
    --delivering;
  }
  const std::uint64_t id = next_watch_id_++;
  watchers_[id] = {resource, ns, std::move(fn)};
  return id;
}

void Store::unwatch(std::uint64_t id) {
  std::lock_guard write(write_mutex_);
  watchers_.erase(id);
}

std::uint64_t Store::resource_version() const {
  std::shared_lock data(data_mutex_);
  return version_;
}

}  // namespace mambogo::sim
