#!/usr/bin/env bash
# Installs every Debian 12 package the project builds, tests and runs with. Idempotent: when
# everything is present it only asks dpkg (well under a second) and never calls apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev qt6-tools-dev qt6-tools-dev-tools
  qt6-l10n-tools libqt6opengl6-dev libgl-dev fonts-dejavu-core
  libboost-dev prometheus-cpp-dev libpqxx-dev libpq-dev libhiredis-dev libsqlite3-dev libssl-dev
  libjwt-dev nlohmann-json3-dev libyaml-cpp-dev libpugixml-dev libcli11-dev libspdlog-dev
  libncurses-dev libjemalloc-dev
  redis-server postgresql nginx haproxy wrk xvfb xauth imagemagick tmux curl procps
  python3-kubernetes python3-yaml poppler-utils desktop-file-utils appstream file
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
installed=$(dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)
for p in "${packages[@]}"; do
  if ! grep -Eq "^${p}(:[a-z0-9]+)? ii" <<<"$installed"; then missing+=("$p"); fi
done
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  # Debian's postinst scripts try to start nginx, redis and postgresql; we start our own
  # instances on free loopback ports, so keep the packaged services from starting.
  policy=$(mktemp); printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"
  if [ ! -e /usr/sbin/policy-rc.d ]; then "${sudo_cmd[@]}" cp "$policy" /usr/sbin/policy-rc.d; added_policy=1; fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [ "${added_policy:-0}" = 1 ]; then "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; fi
  rm -f "$policy"
fi

# promtool and the prometheus server binary only: the prometheus package would also install
# a system service and its dependencies. The dashboards' tests run both (no service is set up).
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "setup: extracting promtool and prometheus from Debian's prometheus package"
  work=$(mktemp -d)
  (cd "$work" && apt-get download prometheus >/dev/null 2>&1 || { "${sudo_cmd[@]}" apt-get update -q && apt-get download prometheus; })
  dpkg-deb -x "$work"/prometheus_*.deb "$work/x"
  "${sudo_cmd[@]}" install -m 0755 "$work/x/usr/bin/promtool" /usr/local/bin/promtool
  "${sudo_cmd[@]}" install -m 0755 "$work/x/usr/bin/prometheus" /usr/local/bin/prometheus
  rm -rf "$work"
fi
