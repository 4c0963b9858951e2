#!/bin/sh
# A stand-in for mambogo-cluster in the launcher tests (tst_cluster_launcher.cpp).
# `up` records its arguments in $FAKE_CLUSTER_LOG.up, writes cluster.pid, prints what
# FAKE_CLUSTER_MODE asks for (ok, crash, usage) and (ok) stays up until SIGTERM, at most 60 s;
# `down` signals the pid in cluster.pid. With FAKE_API_URL set, `up` also writes a kubeconfig
# for that server and a user token, as the real one does.
cmd=$1; shift
echo "$@" > "$FAKE_CLUSTER_LOG.$cmd"
state=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--state-dir" ]; then state=$2; fi
  shift
done
if [ "$cmd" = "down" ]; then
  if [ -f "$state/cluster.pid" ]; then kill "$(cat "$state/cluster.pid")"; echo "stopping mambogo-cluster... stopped"; fi
  exit 0
fi
case "$FAKE_CLUSTER_MODE" in
  usage) echo "--profile: bad value" >&2; exit 109 ;;
esac
echo $$ > "$state/cluster.pid"
if [ -n "$FAKE_API_URL" ]; then  # a kubeconfig for an API server stand-in, as `up` writes one
  printf 'apiVersion: v1\nkind: Config\ncurrent-context: mambogo-local\nclusters:\n- name: mambogo-local\n  cluster:\n    server: %s\nusers:\n- name: admin\n  user:\n    token: t0ken\ncontexts:\n- name: mambogo-local\n  context:\n    cluster: mambogo-local\n    user: admin\n' "$FAKE_API_URL" > "$state/kubeconfig"
  mkdir -p "$state/auth" && echo "user-token" > "$state/auth/user.jwt"
fi
echo "API server on https://127.0.0.1:6443 (profile embedded, state $state)"
echo "pod/gateway-7d9f Pending 0/1"
echo "pod/payment-service-5c4b ContainerCreating 0/1"
echo "pod/gateway-7d9f Running 1/1"
if [ "$FAKE_CLUSTER_MODE" = "crash" ]; then
  echo "pod/payment-service-5c4b CrashLoopBackOff 0/1 (back-off 10s restarting failed container)"
  echo "FAILED not ready after 2 s: pod/payment-service-5c4b is CrashLoopBackOff 0/1"
  rm -f "$state/cluster.pid"
  exit 1
fi
echo "pod/payment-service-5c4b Running 1/1"
echo "READY http://127.0.0.1:8080"
trap 'echo "mambogo-cluster: stopping (signal 15)"; rm -f "$state/cluster.pid"; exit 0' TERM
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
rm -f "$state/cluster.pid"
