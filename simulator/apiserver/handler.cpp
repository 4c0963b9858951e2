#include "apiserver/handler.h"

#include "apiserver/manifest.h"
#include "apiserver/patch.h"
#include "apiserver/query.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "objects/defaults.h"
#include "objects/names.h"
#include "objects/quantity.h"
#include "objects/validation.h"
#include "pods/node_backend.h"

#include <openssl/crypto.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace mambogo::sim::api {

struct Target {
  const ResourceInfo* r = nullptr;
  std::string ns;
  std::string name;
  std::string subresource;
  std::string rest;  // after pods/NAME/proxy
};

struct DeleteOptions {
  std::optional<std::int64_t> grace_period;
  std::string propagation;  // Background, Foreground, Orphan
  bool dry_run = false;
  std::optional<std::string> uid, resource_version;  // preconditions
};

namespace {

constexpr std::size_t kMaxUpdateAttempts = 8;

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

Response json_response(int status, const Json& body) {
  Response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

Response error_response(const ApiError& e) { return json_response(e.code(), e.status()); }

bool is_dry_run(const Request& request) {
  for (auto [it, end] = request.query.equal_range("dryRun"); it != end; ++it)
    if (it->second == "All") return true;
  return false;
}

bool strict_fields(const Request& request) { return request.param("fieldValidation").value_or("") == "Strict"; }

std::string media_type(const Request& request) {
  std::string type = request.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type;
}

// A request body as JSON: application/json (or no type) or application/yaml.
Json decode_body(const Request& request) {
  const std::string type = media_type(request);
  if (type.empty() || type == "application/json" || type == "*/*") {
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded())
      throw bad_request("the body of the request is not valid JSON (expected an object): " +
                        request.body.substr(0, 64));
    return body;
  }
  if (type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml") {
    try {
      return yaml_document_to_json(request.body);
    } catch (const std::invalid_argument& e) {
      throw bad_request(std::string("the body of the request is not valid YAML: ") + e.what());
    }
  }
  throw unsupported_media_type(request.header("content-type"));
}

Json list_of(const ResourceInfo& r, Json items, std::uint64_t resource_version) {
  return {{"kind", r.kind + "List"},
          {"apiVersion", r.api_version()},
          {"metadata", {{"resourceVersion", std::to_string(resource_version)}}},
          {"items", std::move(items)}};
}

// Checks kind/apiVersion and namespace of a body against the URL; fills them in.
void settle_identity(const ResourceInfo& r, const std::string& url_ns, Json& object) {
  if (!object.is_object()) throw bad_request("the body of the request must be a JSON object, not " + std::string(object.type_name()));
  const std::string kind = object.value("kind", "");
  const std::string api_version = object.value("apiVersion", "");
  if (!kind.empty() && kind != r.kind)
    throw bad_request("the kind in the data (" + kind + ") does not match the expected kind (" + r.kind + ")");
  if (!api_version.empty() && api_version != r.api_version())
    throw bad_request("the API version in the data (" + api_version + ") does not match the expected API version (" +
                      r.api_version() + ")");
  object["kind"] = r.kind;
  object["apiVersion"] = r.api_version();
  if (!object.contains("metadata") || object["metadata"].is_null()) object["metadata"] = Json::object();
  if (!object["metadata"].is_object()) throw bad_request("metadata must be an object");
  auto& meta = object["metadata"];
  if (r.namespaced) {
    const std::string ns = meta.value("namespace", "");
    if (!ns.empty() && !url_ns.empty() && ns != url_ns)
      throw bad_request("the namespace of the provided object does not match the namespace sent on the request");
    meta["namespace"] = url_ns.empty() ? (ns.empty() ? "default" : ns) : url_ns;
  } else {
    meta.erase("namespace");
  }
}

void check_fields(const ResourceInfo& r, Json& object, bool strict) {
  if (strict) {
    auto unknown = unknown_fields(r.store_name(), object);
    if (!unknown.empty()) {
      std::string list;
      for (const auto& f : unknown) list += (list.empty() ? "" : ", ") + std::string("unknown field \"") + f + "\"";
      throw bad_request(r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind +
                        ": strict decoding error: " + list);
    }
  } else {
    drop_unknown_fields(r.store_name(), object);
  }
}

void throw_if_invalid(const ResourceInfo& r, const std::string& name, const std::vector<FieldError>& errors) {
  if (errors.empty()) return;
  std::vector<FieldCause> causes;
  for (const auto& e : errors) causes.push_back({e.field, e.reason, e.message});
  throw invalid(r, name, causes);
}

std::string qos_class(const Json& pod) {
  bool any = false, guaranteed = true;
  for (const auto& c : pod["spec"].value("containers", Json::array())) {
    const Json res = c.value("resources", Json::object());
    const Json requests = res.value("requests", Json::object()), limits = res.value("limits", Json::object());
    if (!requests.empty() || !limits.empty()) any = true;
    for (const char* kind : {"cpu", "memory"}) {
      if (!limits.contains(kind)) {
        guaranteed = false;
        continue;
      }
      if (requests.contains(kind) && requests[kind] != limits[kind]) {
        try {
          if (parse_quantity(requests[kind].is_string() ? requests[kind].get<std::string>() : requests[kind].dump()) !=
              parse_quantity(limits[kind].is_string() ? limits[kind].get<std::string>() : limits[kind].dump()))
            guaranteed = false;
        } catch (const std::exception&) {
          guaranteed = false;
        }
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

// The status an object starts with: clients do not set it on create.
void initial_status(const ResourceInfo& r, Json& object) {
  if (!r.status_subresource) return;
  object.erase("status");
  const std::string res = r.store_name();
  if (res == "pods") object["status"] = {{"phase", "Pending"}, {"qosClass", qos_class(object)}};
  else if (res == "namespaces") object["status"] = {{"phase", "Active"}};
  else if (res == "services") object["status"] = {{"loadBalancer", Json::object()}};
}

Json scale_of(const Json& object) {
  const auto& meta = metadata_of(object);
  Json m{{"name", meta.value("name", "")}, {"namespace", meta.value("namespace", "")}, {"uid", meta.value("uid", "")},
         {"resourceVersion", meta.value("resourceVersion", "")},
         {"creationTimestamp", meta.value("creationTimestamp", Json())}};
  std::string selector;
  const Json spec = object.value("spec", Json::object());
  if (spec.contains("selector") && spec["selector"].is_object()) {
    try {
      selector = LabelSelector::from_json(spec["selector"]).to_string();
    } catch (const std::exception&) {
    }
  }
  const Json status = object.value("status", Json::object());
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata", m},
          {"spec", {{"replicas", spec.value("replicas", 1)}}},
          {"status", {{"replicas", status.value("replicas", 0)}, {"selector", selector}}}};
}

std::string event_line(const std::string& type, const Json& object) {
  return Json{{"type", type}, {"object", object}}.dump() + "\n";
}

// Watch events as a chunked stream: first the current objects as ADDED when asked, then the
// Store's changes from `since`, filtered by the request's selectors.
class WatchStream : public Stream {
 public:
  WatchStream(Store& store, const ResourceInfo& r, std::string ns, std::uint64_t since, bool initial, ListFilter filter,
              Format format)
      : store_(store), r_(r), ns_(std::move(ns)), since_(since), initial_(initial), filter_(std::move(filter)),
        format_(format) {}
  ~WatchStream() override {
    if (id_) store_.unwatch(*id_);
  }

  void start(const std::shared_ptr<StreamSink>& sink) override {
    try {
      std::uint64_t since = since_;
      if (initial_) {
        auto listed = store_.list(r_.store_name(), ns_, [&](const Json& o) { return filter_.matches(o); });
        for (const auto& o : listed.items) sink->write(encode("ADDED", o));
        since = listed.resource_version;
      }
      id_ = store_.watch(r_.store_name(), ns_, since, [this, sink](const WatchEvent& e) {
        if (filter_.matches(e.object)) sink->write(encode(to_string(e.type), e.object));
      });
    } catch (const StoreError& e) {
      sink->write(event_line("ERROR", status_object(410, "Expired", e.what())));
      sink->finish();
    }
  }

 private:
  std::string encode(const std::string& type, const Json& object) const {
    if (format_.output == Output::table)
      return event_line(type, build_table(r_, {object}, format_.version, IncludeObject::metadata, Handler::Clock::now()));
    if (format_.output == Output::metadata) return event_line(type, partial_metadata(object, format_.version));
    return event_line(type, object);
  }

  Store& store_;
  const ResourceInfo& r_;
  const std::string ns_;
  const std::uint64_t since_;
  const bool initial_;
  const ListFilter filter_;
  const Format format_;
  std::optional<std::uint64_t> id_;
};

// `kubectl logs -f`: what the file has, then what is appended, until the pod is gone.
class LogFollowStream : public Stream {
 public:
  LogFollowStream(Store& store, ObjectRef pod, std::string uid, std::filesystem::path file, std::string initial,
                  std::uintmax_t offset)
      : store_(store), pod_(std::move(pod)), uid_(std::move(uid)), file_(std::move(file)),
        initial_(std::move(initial)), offset_(offset) {}
  ~LogFollowStream() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void start(const std::shared_ptr<StreamSink>& sink) override {
    if (!initial_.empty()) sink->write(std::move(initial_));
    thread_ = std::thread([this, sink] { follow(*sink); });
  }

 private:
  void follow(StreamSink& sink) {
    while (!stop_) {
      for (int i = 0; i < 4 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(file_, std::ios::binary);
      if (in) {
        in.seekg(0, std::ios::end);
        const auto size = static_cast<std::uintmax_t>(in.tellg());
        if (size < offset_) offset_ = 0;  // rotated or truncated
        if (size > offset_) {
          std::string chunk(size - offset_, '\0');
          in.seekg(static_cast<std::streamoff>(offset_));
          in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
          offset_ = size;
          sink.write(std::move(chunk));
        }
      }
      auto pod = store_.get(pod_);
      if (!pod || metadata_of(*pod).value("uid", "") != uid_) {
        sink.finish();
        return;
      }
    }
  }

  Store& store_;
  const ObjectRef pod_;
  const std::string uid_;
  const std::filesystem::path file_;
  std::string initial_;
  std::uintmax_t offset_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string last_lines(const std::string& text, std::int64_t n) {
  if (n < 0) return text;
  if (n == 0) return {};
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::int64_t seen = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++seen == n) break;
    --pos;
  }
  return text.substr(pos);
}

std::optional<std::int64_t> int_param(const Request& request, const std::string& name) {
  auto v = request.param(name);
  if (!v || v->empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    auto n = std::stoll(*v, &used);
    if (used != v->size()) throw std::invalid_argument(*v);
    return n;
  } catch (const std::exception&) {
    throw bad_request("invalid value for " + name + ": \"" + *v + "\" is not an integer");
  }
}

DeleteOptions delete_options(const Request& request) {
  DeleteOptions o;
  o.grace_period = int_param(request, "gracePeriodSeconds");
  o.propagation = request.param("propagationPolicy").value_or("");
  if (truthy(request.param("orphanDependents"))) o.propagation = "Orphan";
  o.dry_run = is_dry_run(request);
  if (!request.body.empty()) {
    Json body = decode_body(request);
    if (!body.is_object()) throw bad_request("DeleteOptions must be a JSON object");
    if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer())
      o.grace_period = body["gracePeriodSeconds"].get<std::int64_t>();
    if (body.contains("propagationPolicy") && body["propagationPolicy"].is_string())
      o.propagation = body["propagationPolicy"];
    if (body.value("orphanDependents", false)) o.propagation = "Orphan";
    if (body.contains("dryRun") && body["dryRun"].is_array())
      for (const auto& d : body["dryRun"])
        if (d == "All") o.dry_run = true;
    const Json pre = body.value("preconditions", Json::object());
    if (pre.is_object()) {
      if (pre.contains("uid") && pre["uid"].is_string()) o.uid = pre["uid"];
      if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string()) o.resource_version = pre["resourceVersion"];
    }
  }
  if (!o.propagation.empty() && o.propagation != "Background" && o.propagation != "Foreground" && o.propagation != "Orphan")
    throw bad_request("propagationPolicy: Unsupported value: \"" + o.propagation +
                      "\": supported values: \"Background\", \"Foreground\", \"Orphan\"");
  if (o.grace_period && *o.grace_period < 0) o.grace_period = 0;
  return o;
}

// RFC 3339 time `seconds` from now.
std::string rfc3339_after(std::int64_t seconds) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string window_text(double seconds) {
  std::ostringstream out;
  out << seconds << "s";
  return out.str();
}

}  // namespace

bool Handler::authorized(const std::string& authorization) const {
  const std::string expected = "Bearer " + token_;
  // Constant time, so the comparison does not tell how much of a guess was right.
  return authorization.size() == expected.size() &&
         CRYPTO_memcmp(authorization.data(), expected.data(), expected.size()) == 0;
}

Handler::Handler(Store& store, NodeBackend* node, std::string bearer_token, std::function<std::string()> server_address,
                 std::string service_network)
    : store_(store),
      node_(node),
      token_(std::move(bearer_token)),
      service_network_(std::move(service_network)),
      server_address_(std::move(server_address)) {}

void Handler::ensure_namespaces() {
  const ResourceInfo* r = find_resource("", "v1", "namespaces");
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (store_.get({"namespaces", "", name})) continue;
    try {
      create_object(*r, "", Json{{"metadata", {{"name", name}}}}, false, false);
    } catch (const ApiError&) {
      // created meanwhile by someone else
    }
  }
}

Response Handler::handle(const Request& request) {
  try {
    return route(request);
  } catch (const ApiError& e) {
    return error_response(e);
  } catch (const StoreError& e) {
    return json_response(e.code(), status_object(e.code(), e.status_reason(), e.what()));
  } catch (const std::exception& e) {
    return error_response(internal_error(e.what()));
  }
}

Response Handler::route(const Request& request) {
  const auto parts = split_path(request.path);
  const std::string first = parts.empty() ? "" : parts[0];
  const bool open = parts.size() == 1 && (first == "version" || first == "healthz" || first == "readyz" || first == "livez");
  if (!token_.empty() && !open && !authorized(request.header("authorization"))) throw unauthorized();

  const bool get = request.method == "GET" || request.method == "HEAD";
  if (parts.empty()) {
    Json paths = Json::array({"/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"});
    for (const auto& g : all_groups()) {
      paths.push_back("/apis/" + g.name);
      for (const auto& v : g.versions) paths.push_back("/apis/" + g.name + "/" + v);
    }
    return json_response(200, {{"paths", paths}});
  }
  if (first == "version" && parts.size() == 1) return json_response(200, version_info());
  if ((first == "healthz" || first == "readyz" || first == "livez") && parts.size() == 1) {
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (first == "openapi" && get) {
    if (parts.size() == 2 && parts[1] == "v2") {
      // An empty OpenAPI v2 document: kubectl finds no schema and validates nothing itself
      // (the server does, with fieldValidation).
      Response r;
      if (request.header("accept").find("protobuf") != std::string::npos) {
        r.content_type = "application/octet-stream";  // clients parse the type; '@' is not valid in one
      } else {
        r.body = Json{{"swagger", "2.0"}, {"info", {{"title", "Kubernetes"}, {"version", "v1.30.0-mambogo"}}},
                      {"paths", Json::object()}, {"definitions", Json::object()}}
                     .dump();
      }
      return r;
    }
    if (parts.size() == 2 && parts[1] == "v3") return json_response(200, openapi_v3_root());
    if (parts.size() == 4 && parts[1] == "v3" && parts[2] == "api") {
      Json doc = openapi_v3_document("", parts[3]);
      if (!doc.is_null()) return json_response(200, doc);
    }
    if (parts.size() == 5 && parts[1] == "v3" && parts[2] == "apis") {
      Json doc = openapi_v3_document(parts[3], parts[4]);
      if (!doc.is_null()) return json_response(200, doc);
    }
    throw not_found_path();
  }

  std::string group, version;
  std::size_t at = 0;
  if (first == "api") {
    if (parts.size() == 1) {
      if (!get) throw method_not_allowed("the server does not allow this method on the requested resource");
      return json_response(200, api_versions(server_address_()));
    }
    version = parts[1];
    at = 2;
  } else if (first == "apis") {
    if (parts.size() == 1) return json_response(200, api_group_list());
    group = parts[1];
    if (parts.size() == 2) {
      for (const auto& g : all_groups())
        if (g.name == group) return json_response(200, api_group(g));
      throw not_found_path();
    }
    version = parts[2];
    at = 3;
  } else {
    throw not_found_path();
  }
  if (parts.size() == at) {
    Json list = api_resource_list(group, version);
    if (list.is_null()) throw not_found_path();
    return json_response(200, list);
  }

  std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(at), parts.end());
  Target t;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    const ResourceInfo* r = find_resource(group, version, rest[2]);
    if (r && r->namespaced) {
      t.ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  t.r = find_resource(group, version, rest[0]);
  if (!t.r) throw not_found_path();
  if (rest.size() >= 2) t.name = rest[1];
  if (rest.size() >= 3) t.subresource = rest[2];
  if (t.subresource == "proxy" && t.r->proxy_subresource) {
    for (std::size_t i = 3; i < rest.size(); ++i) t.rest += "/" + rest[i];
    if (t.rest.empty() || (!request.path.empty() && request.path.back() == '/')) t.rest += "/";
  } else if (rest.size() > 3) {
    throw not_found_path();
  }
  return serve_resource(request, t);
}

Response Handler::serve_resource(const Request& request, const Target& t) {
  const ResourceInfo& r = *t.r;
  const std::string& m = request.method;
  if (!r.stored) {
    if (m != "GET") throw method_not_allowed("the server does not allow this method on the requested resource");
    return metrics(request, t);
  }
  if (t.name.empty()) {
    if (r.namespaced && t.ns.empty() && m != "GET")
      throw not_found_path();
    if (m == "GET") return truthy(request.param("watch")) ? watch(request, t) : list(request, t);
    if (m == "POST") return create(request, t);
    if (m == "DELETE") return remove_collection(request, t);
    throw method_not_allowed("the server does not allow this method on the requested resource");
  }
  if (r.namespaced && t.ns.empty()) throw not_found_path();
  if (t.subresource.empty() || t.subresource == "status") {
    if (t.subresource == "status" && !r.status_subresource) throw not_found_path();
    if (m == "GET" && t.subresource.empty() && truthy(request.param("watch"))) return watch(request, t);
    if (m == "GET") return get(request, t);
    if (m == "PUT") return replace(request, t);
    if (m == "PATCH") return patch(request, t);
    if (m == "DELETE" && t.subresource.empty()) return remove(request, t);
    throw method_not_allowed("the server does not allow this method on the requested resource");
  }
  if (t.subresource == "scale" && r.scale_subresource) return scale(request, t);
  if (t.subresource == "log" && r.log_subresource) {
    if (m != "GET") throw method_not_allowed("the server does not allow this method on the requested resource");
    return log(request, t);
  }
  if (t.subresource == "proxy" && r.proxy_subresource) return proxy(request, t);
  throw not_found_path();
}

Json Handler::existing(const ResourceInfo& r, const std::string& ns, const std::string& name) const {
  auto object = store_.get({r.store_name(), ns, name});
  if (!object) throw not_found(r, name);
  return *object;
}

Response Handler::get(const Request& request, const Target& t) {
  Json object = existing(*t.r, t.ns, t.name);
  const Format format = parse_accept(request.header("accept"));
  if (format.output == Output::table) {
    const std::string include = request.param("includeObject").value_or("Metadata");
    Json table = build_table(*t.r, {object}, format.version,
                             include == "None" ? IncludeObject::none
                             : include == "Object" ? IncludeObject::object
                                                   : IncludeObject::metadata,
                             Clock::now());
    table["metadata"]["resourceVersion"] = metadata_of(object).value("resourceVersion", "");
    return json_response(200, table);
  }
  if (format.output == Output::metadata) return json_response(200, partial_metadata(object, format.version));
  return json_response(200, object);
}

Response Handler::list(const Request& request, const Target& t) {
  const ResourceInfo& r = *t.r;
  const ListFilter filter = list_filter(request, r);
  auto listed = store_.list(r.store_name(), t.ns, [&](const Json& o) { return filter.matches(o); });
  // Paging: `continue` is the namespace/name of the last item served.
  std::vector<Json> items;
  const std::string after = request.param("continue").value_or("");
  const auto limit = int_param(request, "limit").value_or(0);
  std::string next;
  std::size_t remaining = 0;
  for (auto& o : listed.items) {
    const std::string key = namespace_of(o) + "/" + name_of(o);
    if (!after.empty() && key <= after) continue;
    if (limit > 0 && static_cast<std::int64_t>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(std::move(o));
  }
  if (remaining > 0) next = namespace_of(items.back()) + "/" + name_of(items.back());
  Json body;
  const Format format = parse_accept(request.header("accept"));
  if (format.output == Output::table) {
    const std::string include = request.param("includeObject").value_or("Metadata");
    body = build_table(r, items, format.version,
                       include == "None" ? IncludeObject::none
                       : include == "Object" ? IncludeObject::object
                                             : IncludeObject::metadata,
                       Clock::now());
  } else if (format.output == Output::metadata) {
    Json partial = Json::array();
    for (const auto& o : items) partial.push_back(partial_metadata(o, format.version));
    body = {{"kind", "PartialObjectMetadataList"}, {"apiVersion", "meta.k8s.io/" + format.version},
            {"metadata", Json::object()}, {"items", partial}};
  } else {
    body = list_of(r, Json(items), listed.resource_version);
  }
  body["metadata"]["resourceVersion"] = std::to_string(listed.resource_version);
  if (!next.empty()) {
    body["metadata"]["continue"] = next;
    body["metadata"]["remainingItemCount"] = remaining;
  }
  return json_response(200, body);
}

Response Handler::watch(const Request& request, const Target& t) {
  const ResourceInfo& r = *t.r;
  ListFilter filter = list_filter(request, r);
  if (!t.name.empty()) filter.fields.push_back({"metadata.name", true, t.name});
  const std::string rv = request.param("resourceVersion").value_or("");
  std::uint64_t since = 0;
  if (!rv.empty() && rv != "0") {
    try {
      since = std::stoull(rv);
    } catch (const std::exception&) {
      throw bad_request("invalid resourceVersion \"" + rv + "\"");
    }
  }
  Response response;
  response.stream = std::make_unique<WatchStream>(store_, r, t.ns, since, since == 0, std::move(filter),
                                                  parse_accept(request.header("accept")));
  if (auto timeout = int_param(request, "timeoutSeconds"); timeout && *timeout > 0)
    response.stream_timeout = std::chrono::seconds(*timeout);
  return response;
}

Json Handler::create_object(const ResourceInfo& r, const std::string& ns, Json object, bool dry_run, bool strict) {
  settle_identity(r, ns, object);
  auto& meta = object["metadata"];
  const std::string object_ns = meta.value("namespace", "");
  if (meta.contains("resourceVersion") && !meta["resourceVersion"].is_null() && meta["resourceVersion"] != "")
    throw bad_request("resourceVersion should not be set on objects to be created");
  for (const char* system : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                             "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields"})
    meta.erase(system);
  if (meta.value("name", "").empty()) {
    const std::string prefix = meta.value("generateName", "");
    if (prefix.empty())
      throw invalid(r, "", {{"metadata.name", "FieldValueRequired", "Required value: name or generateName is required"}});
    meta["name"] = prefix + random_suffix();
  }
  const std::string name = meta["name"];
  if (r.namespaced && !store_.get({"namespaces", "", object_ns}))
    throw not_found(*find_resource("", "v1", "namespaces"), object_ns);
  check_fields(r, object, strict);
  initial_status(r, object);
  apply_defaults(r.store_name(), object);
  if (r.store_name() == "namespaces") {
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    if (!object.contains("spec")) object["spec"] = {{"finalizers", {"kubernetes"}}};
  }
  throw_if_invalid(r, name, validate_object(r.store_name(), object));

  std::unique_lock<std::mutex> allocation;
  if (r.store_name() == "services") {
    allocation = std::unique_lock(allocation_mutex_);
    allocate_service_addresses(object, nullptr);
  }
  if (store_.get({r.store_name(), object_ns, name})) throw already_exists(r, name);
  if (dry_run) {
    object["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000";
    object["metadata"]["creationTimestamp"] = now_rfc3339();
    object["metadata"]["generation"] = 1;
    return object;
  }
  try {
    return store_.create(r.store_name(), std::move(object));
  } catch (const StoreError& e) {
    throw from_store_error(e, r, name);
  }
}

void Handler::allocate_service_addresses(Json& service, const Json* current) {
  auto& spec = service["spec"];
  const std::string type = spec.value("type", "ClusterIP");
  if (current) {
    const Json old_spec = current->value("spec", Json::object());
    if (spec.value("clusterIP", "").empty() && old_spec.contains("clusterIP")) spec["clusterIP"] = old_spec["clusterIP"];
    if (!spec.contains("clusterIPs") && old_spec.contains("clusterIPs")) spec["clusterIPs"] = old_spec["clusterIPs"];
  }
  std::set<std::string> used_ips;
  std::set<std::int64_t> used_ports;
  for (const auto& s : store_.list("services").items) {
    if (current && metadata_of(s).value("uid", "") == metadata_of(*current).value("uid", "")) continue;
    const Json other = s.value("spec", Json::object());
    used_ips.insert(other.value("clusterIP", ""));
    for (const auto& p : other.value("ports", Json::array()))
      if (p.contains("nodePort") && p["nodePort"].is_number_integer()) used_ports.insert(p["nodePort"].get<std::int64_t>());
  }
  const ResourceInfo& r = *find_resource("", "v1", "services");
  const std::string name = name_of(service);
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
    return;
  }
  std::string ip = spec.value("clusterIP", "");
  if (ip.empty()) {
    for (int n = 1; n <= 254 && ip.empty(); ++n)
      if (!used_ips.count(service_network_ + std::to_string(n))) ip = service_network_ + std::to_string(n);
    if (ip.empty())
      throw invalid(r, name, {{"spec.clusterIP", "FieldValueInvalid", "Internal error: failed to allocate a serviceIP: range is full"}});
  } else if (ip != "None") {
    if (ip.rfind(service_network_, 0) != 0)
      throw invalid(r, name, {{"spec.clusterIPs", "FieldValueInvalid",
                               "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip +
                                   ": the provided IP (" + ip + ") is not in the valid range. The range of valid IPs is " +
                                   service_network_ + "0/24"}});
    if (used_ips.count(ip))
      throw invalid(r, name, {{"spec.clusterIPs", "FieldValueInvalid",
                               "Invalid value: [\"" + ip + "\"]: failed to allocate IP " + ip + ": provided IP is already allocated"}});
  }
  spec["clusterIP"] = ip;
  spec["clusterIPs"] = Json::array({ip});
  if (ip != "None") {
    spec["ipFamilies"] = Json::array({"IPv4"});
    spec["ipFamilyPolicy"] = "SingleStack";
  }
  if (type == "NodePort" || type == "LoadBalancer") {
    std::int64_t next = 30000;
    for (auto& p : spec["ports"]) {
      if (p.contains("nodePort") && p["nodePort"].is_number_integer() && p["nodePort"].get<std::int64_t>() != 0) continue;
      while (used_ports.count(next)) ++next;
      if (next > 32767) throw invalid(r, name, {{"spec.ports", "FieldValueInvalid", "range of node ports is full"}});
      p["nodePort"] = next;
      used_ports.insert(next++);
    }
  }
}

Json Handler::update_object(const ResourceInfo& r, const Json& current, Json updated, const std::string& subresource,
                            bool dry_run, bool strict) {
  const std::string name = name_of(current);
  settle_identity(r, namespace_of(current), updated);
  if (name_of(updated) != name)
    throw bad_request("the name of the object (" + name_of(updated) + ") does not match the name on the URL (" + name + ")");
  check_fields(r, updated, strict);
  auto& meta = updated["metadata"];
  const auto& old_meta = metadata_of(current);
  for (const char* kept : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
    if (old_meta.contains(kept)) meta[kept] = old_meta.at(kept);
    else meta.erase(kept);
  }
  if (!meta.contains("resourceVersion") || meta["resourceVersion"].is_null() || meta["resourceVersion"] == "")
    meta["resourceVersion"] = old_meta.value("resourceVersion", "");
  if (meta["resourceVersion"] != old_meta.value("resourceVersion", "")) throw stale(r, name);
  if (subresource == "status") {
    Json status_only = current;
    if (updated.contains("status")) status_only["status"] = updated["status"];
    else status_only.erase("status");
    status_only["metadata"]["resourceVersion"] = meta["resourceVersion"];
    updated = std::move(status_only);
  } else if (r.status_subresource) {
    if (current.contains("status")) updated["status"] = current["status"];
    else updated.erase("status");
  }
  if (subresource != "status") apply_defaults(r.store_name(), updated);
  if (r.store_name() == "namespaces") updated["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
  throw_if_invalid(r, name, validate_object(r.store_name(), updated));
  throw_if_invalid(r, name, validate_update(r.store_name(), current, updated));
  std::unique_lock<std::mutex> allocation;
  if (r.store_name() == "services" && subresource != "status") {
    allocation = std::unique_lock(allocation_mutex_);
    const std::string old_ip = current.value("spec", Json::object()).value("clusterIP", "");
    const std::string new_ip = updated["spec"].value("clusterIP", "");
    if (!new_ip.empty() && new_ip != old_ip && !old_ip.empty())
      throw invalid(r, name, {{"spec.clusterIPs[0]", "FieldValueInvalid",
                               "Invalid value: []string{\"" + new_ip + "\"}: may not change once set"}});
    allocate_service_addresses(updated, &current);
  }
  if (dry_run) return updated;
  try {
    return store_.update(r.store_name(), std::move(updated));
  } catch (const StoreError& e) {
    throw from_store_error(e, r, name);
  }
}

Json Handler::update_with_retry(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                const std::function<Json(const Json&, bool&)>& compute, const std::string& subresource,
                                bool dry_run, bool strict) {
  for (std::size_t attempt = 1;; ++attempt) {
    const Json current = existing(r, ns, name);
    bool conditional = false;
    Json updated = compute(current, conditional);
    try {
      return update_object(r, current, std::move(updated), subresource, dry_run, strict);
    } catch (const ApiError& e) {
      if (e.code() != 409 || e.reason() != "Conflict" || conditional || attempt >= kMaxUpdateAttempts) throw;
    }
  }
}

Response Handler::create(const Request& request, const Target& t) {
  Json body = decode_body(request);
  Json created = create_object(*t.r, t.ns, std::move(body), is_dry_run(request), strict_fields(request));
  return json_response(201, created);
}

Response Handler::replace(const Request& request, const Target& t) {
  const Json body = decode_body(request);
  if (!body.is_object()) throw bad_request("the body of the request must be a JSON object");
  Json updated = update_with_retry(
      *t.r, t.ns, t.name,
      [&](const Json&, bool& conditional) {
        const auto& meta = metadata_of(body);
        conditional = meta.contains("resourceVersion") && meta["resourceVersion"].is_string() &&
                      !meta["resourceVersion"].get<std::string>().empty();
        Json copy = body;
        if (copy.contains("metadata") && copy["metadata"].is_object() && !copy["metadata"].contains("name"))
          copy["metadata"]["name"] = t.name;
        return copy;
      },
      t.subresource, is_dry_run(request), strict_fields(request));
  return json_response(200, updated);
}

Response Handler::patch(const Request& request, const Target& t) {
  const std::string type = media_type(request);
  if (type == "application/apply-patch+yaml") {
    // Server-side apply, without field ownership: the applied configuration replaces spec
    // and metadata it names, as apply() does.
    Json object;
    try {
      object = yaml_document_to_json(request.body);
    } catch (const std::invalid_argument& e) {
      throw bad_request(std::string("the body of the request is not valid YAML: ") + e.what());
    }
    if (!object.is_object()) throw bad_request("the applied configuration must be an object");
    settle_identity(*t.r, t.ns, object);
    if (name_of(object) != t.name)
      throw bad_request("the name of the object (" + name_of(object) + ") does not match the name on the URL (" + t.name + ")");
    if (!store_.get({t.r->store_name(), t.ns, t.name}))
      return json_response(201, create_object(*t.r, t.ns, std::move(object), is_dry_run(request), strict_fields(request)));
    Json updated = update_with_retry(
        *t.r, t.ns, t.name,
        [&](const Json& current, bool&) {
          Json merged = apply_merge_patch(current, object);
          return merged;
        },
        t.subresource, is_dry_run(request), strict_fields(request));
    return json_response(200, updated);
  }
  if (type != "application/merge-patch+json" && type != "application/strategic-merge-patch+json" &&
      type != "application/json-patch+json")
    throw unsupported_media_type(request.header("content-type"));
  Json updated = update_with_retry(
      *t.r, t.ns, t.name,
      [&](const Json& current, bool& conditional) {
        Json patched = apply_patch(current, type, request.body);
        if (!patched.is_object()) throw bad_request("the patched object is not a JSON object");
        const auto& pm = metadata_of(patched);
        conditional = pm.value("resourceVersion", Json()) != metadata_of(current).value("resourceVersion", Json());
        if (pm.value("name", "") != t.name)
          throw invalid(*t.r, t.name, {{"metadata.name", "FieldValueInvalid", "Invalid value: \"" + pm.value("name", "") + "\": field is immutable"}});
        return patched;
      },
      t.subresource, is_dry_run(request), strict_fields(request));
  return json_response(200, updated);
}

Json Handler::delete_object(const ResourceInfo& r, const Json& current, const DeleteOptions& o) {
  const std::string name = name_of(current), ns = namespace_of(current);
  const auto& meta = metadata_of(current);
  if (o.uid && *o.uid != meta.value("uid", ""))
    throw conflict(r, name, "Precondition failed: UID in precondition: " + *o.uid + ", UID in object meta: " + meta.value("uid", ""));
  if (o.resource_version && *o.resource_version != meta.value("resourceVersion", ""))
    throw conflict(r, name, "Precondition failed: ResourceVersion in precondition: " + *o.resource_version +
                                ", ResourceVersion in object meta: " + meta.value("resourceVersion", ""));
  const ObjectRef ref{r.store_name(), ns, name};
  const std::string uid = meta.value("uid", "");
  if (r.store_name() == "namespaces" && (name == "default" || name == "kube-system" || name == "kube-public"))
    throw forbidden(r, name, "this namespace may not be deleted");

  if (r.store_name() == "pods") {
    const Json spec = current.value("spec", Json::object());
    const std::string phase = current.value("status", Json::object()).value("phase", "");
    std::int64_t grace = o.grace_period.value_or(spec.value("terminationGracePeriodSeconds", std::int64_t{30}));
    const bool never_ran = spec.value("nodeName", "").empty() || phase == "Succeeded" || phase == "Failed";
    if (grace > 0 && !never_ran) {
      if (meta.contains("deletionGracePeriodSeconds") && meta["deletionGracePeriodSeconds"].is_number_integer())
        grace = std::min(grace, meta["deletionGracePeriodSeconds"].get<std::int64_t>());
      if (o.dry_run) return current;
      try {
        return store_.mutate(ref, [&](Json& pod) {
          if (metadata_of(pod).value("uid", "") != uid) throw StoreError(StoreError::Reason::not_found, "replaced");
          auto& m = pod["metadata"];
          if (!m.contains("deletionTimestamp") || m.value("deletionGracePeriodSeconds", grace + 1) > grace) {
            m["deletionTimestamp"] = rfc3339_after(grace);
            m["deletionGracePeriodSeconds"] = grace;
          }
        });
      } catch (const StoreError& e) {
        throw from_store_error(e, r, name);
      }
    }
  }
  if (o.dry_run) return current;
  if (o.propagation == "Orphan") {
    // Dependents lose their owner reference instead of being collected.
    for (const auto& other : all_resources()) {
      if (!other.stored || !other.namespaced || !r.namespaced) continue;
      for (const auto& dep : store_.list(other.store_name(), ns).items) {
        const auto owners = metadata_of(dep).value("ownerReferences", Json::array());
        if (!std::any_of(owners.begin(), owners.end(), [&](const Json& ow) { return ow.value("uid", "") == uid; })) continue;
        try {
          store_.mutate(ref_of(other.store_name(), dep), [&](Json& d) {
            auto& refs = d["metadata"]["ownerReferences"];
            refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const Json& ow) { return ow.value("uid", "") == uid; }),
                       refs.end());
            if (refs.empty()) d["metadata"].erase("ownerReferences");
          });
        } catch (const StoreError&) {
          // gone meanwhile
        }
      }
    }
  }
  if (r.store_name() == "namespaces") {
    for (const auto& other : all_resources()) {
      if (!other.stored || !other.namespaced) continue;
      for (const auto& o2 : store_.list(other.store_name(), name).items) {
        try {
          store_.remove(ref_of(other.store_name(), o2));
        } catch (const StoreError&) {
        }
      }
    }
  }
  try {
    return store_.remove(ref, uid);
  } catch (const StoreError& e) {
    throw from_store_error(e, r, name);
  }
}

Response Handler::remove(const Request& request, const Target& t) {
  const DeleteOptions options = delete_options(request);
  const Json current = existing(*t.r, t.ns, t.name);
  Json result = delete_object(*t.r, current, options);
  if (t.r->store_name() == "pods" || t.r->store_name() == "namespaces") return json_response(200, result);
  return json_response(200, success_status(*t.r, result));
}

Response Handler::remove_collection(const Request& request, const Target& t) {
  const DeleteOptions options = delete_options(request);
  const ListFilter filter = list_filter(request, *t.r);
  auto listed = store_.list(t.r->store_name(), t.ns, [&](const Json& o) { return filter.matches(o); });
  Json deleted = Json::array();
  for (const auto& o : listed.items) {
    try {
      deleted.push_back(delete_object(*t.r, o, options));
    } catch (const ApiError& e) {
      if (e.code() != 404) throw;
    }
  }
  return json_response(200, list_of(*t.r, deleted, store_.resource_version()));
}

Response Handler::scale(const Request& request, const Target& t) {
  const ResourceInfo& r = *t.r;
  if (request.method == "GET") return json_response(200, scale_of(existing(r, t.ns, t.name)));
  if (request.method != "PUT" && request.method != "PATCH")
    throw method_not_allowed("the server does not allow this method on the requested resource");
  const bool put = request.method == "PUT";
  const Json body = put ? decode_body(request) : Json();
  ResourceInfo scale_info;
  scale_info.group = "autoscaling";
  scale_info.version = "v1";
  scale_info.plural = scale_info.singular = "scale";
  scale_info.kind = "Scale";
  Json updated = update_with_retry(
      r, t.ns, t.name,
      [&](const Json& current, bool& conditional) {
        Json scale = put ? body : apply_patch(scale_of(current), media_type(request), request.body);
        if (!scale.is_object()) throw bad_request("the body of the request must be a Scale object");
        const Json replicas = scale.value("spec", Json::object()).value("replicas", Json());
        if (!replicas.is_number_integer() || replicas.get<std::int64_t>() < 0)
          throw invalid(scale_info, t.name, {{"spec.replicas", "FieldValueInvalid",
                                              "Invalid value: " + replicas.dump() + ": must be greater than or equal to 0"}});
        const Json rv = metadata_of(scale).value("resourceVersion", Json());
        Json next = current;
        conditional = rv.is_string() && !rv.get<std::string>().empty() &&
                      (put || rv != metadata_of(current).value("resourceVersion", Json()));
        if (conditional) next["metadata"]["resourceVersion"] = rv;
        next["spec"]["replicas"] = replicas;
        return next;
      },
      "", is_dry_run(request), false);
  return json_response(200, scale_of(updated));
}

Response Handler::log(const Request& request, const Target& t) {
  const Json pod = existing(*t.r, t.ns, t.name);
  if (!node_) throw not_found(*t.r, t.name);
  // The API server's validateContainer: the only app container when none is named; any
  // container of the pod (init containers too) when one is.
  auto names_of = [&](const char* list) {
    std::vector<std::string> names;
    for (const auto& c : pod["spec"].value(list, Json::array())) names.push_back(c.value("name", ""));
    return names;
  };
  const std::vector<std::string> names = names_of("containers"), init_names = names_of("initContainers");
  auto joined = [](const std::vector<std::string>& list) {
    std::string all;
    for (const auto& n : list) all += (all.empty() ? "" : " ") + n;
    return all;
  };
  std::string container = request.param("container").value_or("");
  if (container.empty()) {
    if (names.size() != 1) {
      std::string message = "a container name must be specified for pod " + t.name;
      if (!names.empty()) message += ", choose one of: [" + joined(names) + "]";
      if (!names.empty() && !init_names.empty()) message += " or one of the init containers: [" + joined(init_names) + "]";
      throw bad_request(message);
    }
    container = names.front();
  } else if (std::find(names.begin(), names.end(), container) == names.end() &&
             std::find(init_names.begin(), init_names.end(), container) == init_names.end()) {
    throw bad_request("container " + container + " is not valid for pod " + t.name);
  }
  const bool previous = truthy(request.param("previous"));
  auto file = node_->log_file(t.ns, t.name, container, previous);
  if (!file) {
    if (previous) throw bad_request("previous terminated container \"" + container + "\" in pod \"" + t.name + "\" not found");
    // kubelet's validateContainerLogStatus: why the container has no log yet.
    std::string waiting = "ContainerCreating";
    const Json status = pod.value("status", Json::object());
    for (const char* list : {"initContainerStatuses", "containerStatuses"})
      for (const auto& cs : status.value(list, Json::array()))
        if (cs.value("name", "") == container) {
          const Json w = cs.value("state", Json::object()).value("waiting", Json::object());
          if (w.is_object() && w.value("reason", "") != "") waiting = w.value("reason", "");
        }
    if (waiting == "ErrImagePull") waiting = "image can't be pulled";
    else if (waiting == "ImagePullBackOff") waiting = "trying and failing to pull image";
    throw bad_request("container \"" + container + "\" in pod \"" + t.name + "\" is waiting to start: " + waiting);
  }
  std::ifstream in(*file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::uintmax_t size = text.size();
  if (auto tail = int_param(request, "tailLines")) text = last_lines(text, *tail);
  if (auto limit = int_param(request, "limitBytes"); limit && *limit >= 0 && static_cast<std::size_t>(*limit) < text.size())
    text.resize(static_cast<std::size_t>(*limit));
  Response response;
  response.content_type = "text/plain";
  if (truthy(request.param("follow")) && !previous) {
    response.stream = std::make_unique<LogFollowStream>(store_, ObjectRef{"pods", t.ns, t.name},
                                                        metadata_of(pod).value("uid", ""), *file, std::move(text), size);
    return response;
  }
  response.body = std::move(text);
  return response;
}

Response Handler::proxy(const Request& request, const Target& t) {
  std::string name = t.name;
  std::optional<std::uint16_t> port;
  if (auto colon = name.rfind(':'); colon != std::string::npos) {
    const std::string p = name.substr(colon + 1);
    name = name.substr(0, colon);
    try {
      port = static_cast<std::uint16_t>(std::stoul(p));
    } catch (const std::exception&) {
      // a named port
      const Json pod = existing(*t.r, t.ns, name);
      for (const auto& c : pod["spec"].value("containers", Json::array()))
        for (const auto& cp : c.value("ports", Json::array()))
          if (cp.value("name", "") == p) port = static_cast<std::uint16_t>(cp.value("containerPort", 0));
      if (!port) throw bad_request("no such port \"" + p + "\" on pod " + name);
    }
  }
  const Json pod = existing(*t.r, t.ns, name);
  const std::string ip = pod.value("status", Json::object()).value("podIP", "");
  if (ip.empty()) throw service_unavailable("pod " + name + " has no IP address yet");
  if (!port) {
    port = 80;
    for (const auto& c : pod["spec"].value("containers", Json::array()))
      for (const auto& cp : c.value("ports", Json::array())) {
        port = static_cast<std::uint16_t>(cp.value("containerPort", 80));
        goto found;
      }
  found:;
  }
  ProxyRequest p;
  p.host = ip;
  p.port = *port;
  p.method = request.method;
  p.target = t.rest + (request.raw_query.empty() ? "" : "?" + request.raw_query);
  for (const char* h : {"accept", "content-type", "user-agent", "accept-encoding"})
    if (!request.header(h).empty()) p.headers.emplace_back(h, request.header(h));
  p.body = request.body;
  Response response;
  response.proxy = std::move(p);
  return response;
}

Response Handler::metrics(const Request& request, const Target& t) {
  if (!node_) throw service_unavailable("the metrics API is not available: no node");
  const ResourceInfo& r = *t.r;
  if (!t.subresource.empty()) throw not_found_path();
  const ListFilter filter = list_filter(request, r);
  Json items = Json::array();
  const std::string now = now_rfc3339();
  if (r.plural == "nodes") {
    const NodeUsage usage = node_->node_usage();
    const std::string node_name = node_->node_name();
    Json labels = Json::object();
    if (auto node = store_.get({"nodes", "", node_name})) labels = metadata_of(*node).value("labels", Json::object());
    Json metrics{{"kind", "NodeMetrics"},
                 {"apiVersion", "metrics.k8s.io/v1beta1"},
                 {"metadata", {{"name", node_name}, {"creationTimestamp", now}, {"labels", labels}}},
                 {"timestamp", usage.timestamp.empty() ? now : usage.timestamp},
                 {"window", window_text(usage.window_seconds)},
                 {"usage",
                  {{"cpu", std::to_string(usage.cpu_nanocores) + "n"},
                   {"memory", format_memory(static_cast<std::int64_t>(usage.memory_bytes))}}}};
    if (filter.matches(metrics) && (t.name.empty() || t.name == node_name)) items.push_back(metrics);
  } else {
    for (const auto& pod : store_.list("pods", t.ns, [&](const Json& o) { return filter.matches(o); }).items) {
      if (!t.name.empty() && name_of(pod) != t.name) continue;
      auto usage = node_->pod_usage(namespace_of(pod), name_of(pod));
      if (!usage) continue;
      Json containers = Json::array();
      for (const auto& c : usage->containers)
        containers.push_back({{"name", c.name},
                              {"usage",
                               {{"cpu", std::to_string(c.cpu_nanocores) + "n"},
                                {"memory", format_memory(static_cast<std::int64_t>(c.memory_bytes))}}}});
      items.push_back({{"kind", "PodMetrics"},
                       {"apiVersion", "metrics.k8s.io/v1beta1"},
                       {"metadata",
                        {{"name", name_of(pod)}, {"namespace", namespace_of(pod)}, {"creationTimestamp", now},
                         {"labels", metadata_of(pod).value("labels", Json::object())}}},
                       {"timestamp", usage->timestamp.empty() ? now : usage->timestamp},
                       {"window", window_text(usage->window_seconds)},
                       {"containers", containers}});
    }
  }
  if (!t.name.empty()) {
    if (items.empty()) {
      ResourceInfo shown = r;
      shown.plural = r.plural == "nodes" ? "nodemetrics" : "podmetrics";
      throw not_found(shown, t.name);
    }
    return json_response(200, items[0]);
  }
  return json_response(200, {{"kind", r.kind + "List"},
                             {"apiVersion", "metrics.k8s.io/v1beta1"},
                             {"metadata", Json::object()},
                             {"items", items}});
}

Json Handler::apply(const Json& object) {
  if (!object.is_object()) throw bad_request("an applied object must be a JSON object");
  const std::string api_version = object.value("apiVersion", ""), kind = object.value("kind", "");
  const ResourceInfo* r = find_kind(api_version, kind);
  if (!r || !r->stored)
    throw bad_request("no matches for kind \"" + kind + "\" in version \"" + api_version + "\"");
  Json copy = object;
  const std::string ns = r->namespaced ? (namespace_of(copy).empty() ? "default" : namespace_of(copy)) : "";
  if (r->namespaced) copy["metadata"]["namespace"] = ns;
  const std::string name = name_of(copy);
  if (name.empty() || !store_.get({r->store_name(), ns, name})) {
    try {
      return create_object(*r, ns, copy, false, false);
    } catch (const ApiError& e) {
      if (e.reason() != "AlreadyExists") throw;
    }
  }
  return update_with_retry(
      *r, ns, name,
      [&](const Json& current, bool&) {
        Json next = copy;
        next["metadata"]["resourceVersion"] = metadata_of(current).value("resourceVersion", "");
        return next;
      },
      "", false, false);
}

}  // namespace mambogo::sim::api
