// mambogo-cluster's control plane in one object: the store (state dir), the API server (HTTPS
// on loopback with a generated CA and a bearer token), the kubelet (pods as local processes),
// the controllers, the service proxy and the chaos controllers — and what `up` needs on top:
// the auth Secret generated at first start, the manifests applied, a kubeconfig written, and
// a wait for every pod to be Ready with progress per pod.
//
// Thread-safety: one controlling thread calls start(), deploy(), wait_ready() and stop().
// Lifetime: stop() (or the destructor) stops every component and terminates every pod.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace mambogo::sim {

struct ClusterOptions {
  std::filesystem::path state_dir;  // store, TLS, tokens, kubeconfig, pods' logs and volumes
  std::filesystem::path manifests;  // a kustomization directory (profile applied)
  std::string profile = "full";     // "full" or "embedded": which overlay of manifests
  std::filesystem::path bin_dir;    // where the mambogo-* service binaries are
  std::filesystem::path images;     // the image map (images.yaml)
  std::uint16_t api_port = 6443;    // 0: any free port
  // Addresses: pods <prefix>.1.N, Service cluster IPs <prefix>.2.N, LoadBalancer Services
  // <prefix>.0.1 ("127.0" gives the gateway http://127.0.0.1:8080). Another prefix lets two
  // clusters run side by side (tests).
  std::string ip_prefix = "127.0";
  std::chrono::milliseconds hpa_sync_period{15'000};
  bool cgroups = true;              // enforce CPU limits through cgroups where possible
  // What survives clusters (the image map's ${MAMBOGO_CACHE_DIR}: PostgreSQL's initdb
  // templates); empty: nothing is cached.
  std::filesystem::path cache_dir;
};

// What `up` reports while it waits; one line a change.
using Progress = std::function<void(const std::string& line)>;

class ControlPlane {
 public:
  explicit ControlPlane(ClusterOptions options);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // Opens the store, writes TLS material, token and kubeconfig, starts every component.
  // Throws std::runtime_error naming what failed (a taken port, an unusable state dir, ...).
  void start();
  // Creates the auth Secret when missing and every object of the manifests that does not
  // exist yet (a restarted cluster keeps what users changed). Throws std::invalid_argument
  // naming the manifest for bad input; nothing of that manifest is applied.
  void deploy(const Progress& progress);
  // Waits until every Deployment and StatefulSet has all its replicas Ready. Returns an empty
  // string when they are, else which pod is not Ready and why.
  std::string wait_ready(std::chrono::milliseconds timeout, const Progress& progress);
  void stop();

  std::uint16_t api_port() const;
  std::filesystem::path kubeconfig() const;
  std::string gateway_url() const;  // http://127.0.0.1:8080 when the gateway Service is served

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mambogo::sim
