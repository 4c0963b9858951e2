#include "cluster/control_plane.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "apiserver/api_server.h"
#include "apiserver/table.h"
#include "apiserver/tls.h"
#include "cluster/manifests.h"
#include "controllers/controllers.h"
#include "netproxy/chaos.h"
#include "netproxy/service_proxy.h"
#include "pods/chaos.h"
#include "pods/image_map.h"
#include "pods/kubelet.h"
#include "runtime/auth/token.h"
#include "store/events.h"
#include "store/store.h"

namespace mambogo::sim {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_private_file(const fs::path& file, const std::string& content) {
  {
    std::ofstream out(file, std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + file.string());
  }
  ::chmod(file.c_str(), 0600);
}

// The bearer token of the API server: made once, kept in the state dir.
std::string cluster_token(const fs::path& state) {
  const fs::path file = state / "token";
  if (fs::exists(file)) {
    std::string token = read_file(file);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    if (token.size() >= 32) return token;
  }
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for the cluster token");
  std::string token;
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned char b : bytes) token += {hex[b >> 4], hex[b & 15]};
  write_private_file(file, token + "\n");
  return token;
}

// Which store resource holds objects of this apiVersion and kind ("apps/v1", "Deployment").
std::string resource_of(const Json& object) {
  static const std::map<std::string, std::string> by_kind = [] {
    std::map<std::string, std::string> m;
    for (const char* resource :
         {"pods", "services", "endpoints", "events", "configmaps", "secrets", "namespaces", "nodes",
          "deployments.apps", "replicasets.apps", "statefulsets.apps", "horizontalpodautoscalers.autoscaling",
          "podchaos.chaos-mesh.org", "networkchaos.chaos-mesh.org", "httpchaos.chaos-mesh.org",
          "stresschaos.chaos-mesh.org"})
      m[kind_of(resource).kind] = resource;
    return m;
  }();
  auto it = by_kind.find(object.value("kind", ""));
  return it == by_kind.end() ? std::string() : it->second;
}

bool condition_true(const Json& object, const std::string& type) {
  for (const auto& c : object.value("status", Json::object()).value("conditions", Json::array()))
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  return false;
}

// "Running 1/1", "Init:0/1 0/1", "CrashLoopBackOff 0/1 (back-off 20s restarting failed container)",
// ...: the STATUS and READY columns of `kubectl get pods`, and why a container waits.
std::string pod_state(const Json& pod) {
  const Json status = pod.value("status", Json::object());
  int ready = 0, total = 0;
  std::string detail;
  for (const auto& cs : status.value("containerStatuses", Json::array())) {
    ++total;
    if (cs.value("ready", false)) ++ready;
    const Json s = cs.value("state", Json::object());
    if (s.contains("waiting")) detail = s["waiting"].value("message", "");
  }
  if (!condition_true(pod, "Initialized")) {
    detail.clear();
    for (const auto& cs : status.value("initContainerStatuses", Json::array())) {
      const Json s = cs.value("state", Json::object());
      if (s.contains("terminated") && s["terminated"].value("exitCode", 1) == 0) continue;
      if (s.contains("waiting")) detail = s["waiting"].value("message", "");
      break;
    }
  }
  std::string out = api::pod_status_text(pod) + " " + std::to_string(ready) + "/" + std::to_string(total);
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

}  // namespace

struct ControlPlane::Impl {
  ClusterOptions options;
  std::string token;
  std::unique_ptr<Store> store;
  std::unique_ptr<Kubelet> kubelet;
  std::unique_ptr<ApiServer> api;
  std::unique_ptr<Controllers> controllers;
  std::unique_ptr<PodChaosController> pod_chaos;
  std::unique_ptr<netproxy::ServiceProxy> proxy;
  std::unique_ptr<netproxy::ChaosController> network_chaos;
  bool running = false;

  fs::path dir(const char* name) const { return options.state_dir / name; }

  void write_kubeconfig() const {
    const std::string ca = read_file(dir("tls") / "ca.crt");
    std::ostringstream k;
    k << "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: mambogo-local\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:" << api->port() << "\n"
         "    certificate-authority-data: " << base64(ca) << "\n"
         "users:\n"
         "- name: mambogo-admin\n"
         "  user:\n"
         "    token: " << token << "\n"
         "contexts:\n"
         "- name: mambogo-local\n"
         "  context:\n"
         "    cluster: mambogo-local\n"
         "    user: mambogo-admin\n"
         "    namespace: default\n"
         "current-context: mambogo-local\n";
    write_private_file(options.state_dir / "kubeconfig", k.str());
  }

  // The JWT key set of the services, generated at first start as Secret mambogo-auth (what
  // packaging/kubernetes mounts at /etc/mambogo/auth), plus a user and an admin token for
  // people and the console, written next to the kubeconfig.
  void ensure_auth_secret(const Progress& progress) {
    namespace auth = runtime::auth;
    auth::KeySet keys;
    if (auto secret = store->get({"secrets", "default", "mambogo-auth"})) {
      keys = auth::KeySet::load_file((dir("auth") / "keys.json").string());
    } else {
      keys = auth::KeySet::generate();
      fs::create_directories(dir("auth"));
      write_private_file(dir("auth") / "keys.json", keys.to_json());
      store->create("secrets", {{"apiVersion", "v1"},
                                {"kind", "Secret"},
                                {"metadata", {{"name", "mambogo-auth"}, {"namespace", "default"},
                                              {"labels", {{"app.kubernetes.io/part-of", "mambogo"}}}}},
                                {"type", "Opaque"},
                                {"data", {{"keys.json", base64(keys.to_json())}}}});
      progress("secret/mambogo-auth created (JWT keys of the services)");
    }
    auth::TokenIssuer issuer(keys);
    auth::TokenRequest user;
    user.subject = "demo-user";
    user.ttl = std::chrono::hours(24 * 30);
    auth::TokenRequest admin = user;
    admin.subject = "demo-admin";
    admin.roles = {"user", "admin"};
    write_private_file(dir("auth") / "user.jwt", issuer.issue(user) + "\n");
    write_private_file(dir("auth") / "admin.jwt", issuer.issue(admin) + "\n");
  }
};

ControlPlane::ControlPlane(ClusterOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ControlPlane::~ControlPlane() { stop(); }

void ControlPlane::start() {
  auto& s = *impl_;
  fs::create_directories(s.options.state_dir);
  generate_tls(s.dir("tls"));
  s.token = cluster_token(s.options.state_dir);
  s.store = std::make_unique<Store>(s.dir("store"));

  KubeletOptions kubelet;
  kubelet.state_dir = s.options.state_dir;
  ImageMap::Vars image_vars{{"MAMBOGO_BIN_DIR", s.options.bin_dir.string()}};
  if (!s.options.cache_dir.empty()) image_vars["MAMBOGO_CACHE_DIR"] = s.options.cache_dir.string();
  kubelet.images = ImageMap::load(s.options.images, image_vars);
  kubelet.use_cgroups = s.options.cgroups;
  kubelet.pod_network = s.options.ip_prefix + ".1.";
  s.kubelet = std::make_unique<Kubelet>(*s.store, std::move(kubelet));

  ApiServerOptions api;
  api.port = s.options.api_port;
  api.tls = TlsFiles{s.dir("tls") / "server.crt", s.dir("tls") / "server.key"};
  api.bearer_token = s.token;
  api.service_network = s.options.ip_prefix + ".2.";
  s.api = std::make_unique<ApiServer>(*s.store, s.kubelet.get(), api);
  s.api->start();  // first: a taken port fails before anything runs
  s.kubelet->set_in_cluster_api({"127.0.0.1", s.api->port(), s.token, s.dir("tls") / "ca.crt"});

  Controllers::Options controllers;
  controllers.hpa.sync_period = s.options.hpa_sync_period;
  s.controllers = std::make_unique<Controllers>(*s.store, *s.kubelet, controllers);
  netproxy::ServiceProxyOptions proxy;
  proxy.load_balancer_address = s.options.ip_prefix + ".0.1";
  s.proxy = std::make_unique<netproxy::ServiceProxy>(*s.store, proxy);
  s.network_chaos = std::make_unique<netproxy::ChaosController>(*s.store, *s.proxy);
  s.pod_chaos = std::make_unique<PodChaosController>(*s.store, *s.kubelet);

  s.kubelet->start();
  s.controllers->start();
  s.proxy->start();
  s.network_chaos->start();
  s.pod_chaos->start();
  s.running = true;
  s.write_kubeconfig();
}

void ControlPlane::deploy(const Progress& progress) {
  auto& s = *impl_;
  s.ensure_auth_secret(progress);
  fs::path source = s.options.manifests;
  if (fs::exists(source / s.options.profile)) source /= s.options.profile;
  auto manifests = load_manifests(source);  // all parsed before anything is applied
  // What pods refer to exists before the pods do (Helm's install order, in short).
  auto rank = [](const Json& o) {
    static const std::vector<std::string> order{"Namespace", "Secret",  "ConfigMap", "Service", "StatefulSet",
                                                "Deployment", "ReplicaSet", "Pod", "HorizontalPodAutoscaler"};
    auto it = std::find(order.begin(), order.end(), o.value("kind", ""));
    return it - order.begin();
  };
  std::stable_sort(manifests.begin(), manifests.end(),
                   [&](const Manifest& a, const Manifest& b) { return rank(a.object) < rank(b.object); });
  for (const auto& m : manifests) {
    const std::string resource = resource_of(m.object);
    Json object = m.object;
    if (resource.empty())
      throw std::invalid_argument(m.source + ": kind \"" + object.value("kind", "") + "\" is not served by mambogo-cluster");
    std::string ns = namespace_of(object);
    if (ns.empty() && resource != "namespaces" && resource != "nodes") ns = "default";
    if (s.store->get({resource, ns, name_of(object)})) continue;  // a restart keeps what users changed
    try {
      s.api->apply(object);
    } catch (const ApiError& e) {
      throw std::invalid_argument(m.source + ": " + e.what());
    } catch (const StoreError& e) {
      throw std::invalid_argument(m.source + ": " + e.what());
    }
    progress(kind_of(resource).kind + "/" + name_of(object) + " created");
  }
}

std::string ControlPlane::wait_ready(std::chrono::milliseconds timeout, const Progress& progress) {
  auto& s = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::map<std::string, std::string> last;  // pod → state printed
  while (true) {
    bool all_ready = true;
    std::string waiting_for;
    for (const char* resource : {"deployments.apps", "statefulsets.apps"}) {
      for (const auto& w : s.store->list(resource).items) {
        const int want = w.value("spec", Json::object()).value("replicas", 1);
        const Json status = w.value("status", Json::object());
        const bool ready = status.value("readyReplicas", 0) >= want && status.value("updatedReplicas", want) >= want &&
                           status.value("observedGeneration", 0) >= metadata_of(w).value("generation", 1);
        if (!ready) {
          all_ready = false;
          if (waiting_for.empty())
            waiting_for = kind_of(resource).kind + "/" + name_of(w) + " has " +
                          std::to_string(status.value("readyReplicas", 0)) + "/" + std::to_string(want) + " ready";
        }
      }
    }
    std::string not_ready_pod;
    for (const auto& pod : s.store->list("pods").items) {
      const std::string name = name_of(pod);
      const std::string state = pod_state(pod);
      if (last[name] != state) {
        progress("pod/" + name + " " + state);
        last[name] = state;
      }
      if (!condition_true(pod, "Ready") && not_ready_pod.empty()) not_ready_pod = "pod/" + name + " is " + state;
    }
    if (all_ready) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string why = waiting_for;
      if (!not_ready_pod.empty()) why += "; " + not_ready_pod;
      return why;
    }
    std::this_thread::sleep_for(100ms);
  }
}

void ControlPlane::stop() {
  auto& s = *impl_;
  if (!s.running) return;
  s.running = false;
  s.pod_chaos->stop();
  s.network_chaos->stop();
  s.controllers->stop();
  s.proxy->stop();
  s.api->stop();
  s.kubelet->stop();
}

std::uint16_t ControlPlane::api_port() const { return impl_->api->port(); }
std::filesystem::path ControlPlane::kubeconfig() const { return impl_->options.state_dir / "kubeconfig"; }

std::string ControlPlane::gateway_url() const {
  auto svc = impl_->store->get({"services", "default", "gateway"});
  if (!svc) return {};
  const Json spec = svc->value("spec", Json::object());
  const int port = spec.value("ports", Json::array()).empty() ? 8080 : spec["ports"][0].value("port", 8080);
  return "http://" + impl_->options.ip_prefix + ".0.1:" + std::to_string(port);
}

}  // namespace mambogo::sim
