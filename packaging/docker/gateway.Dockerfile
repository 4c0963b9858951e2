# syntax=docker/dockerfile:1
# mambogo/gateway:0.1.0 — the API gateway (routes, auth, Redis rate limiting, response cache, breakers), as the Kubernetes manifests
# (packaging/kubernetes/) run it. Build from the repository root:
#   docker build -f packaging/docker/gateway.Dockerfile -t mambogo/gateway:0.1.0 .
# See packaging/docker/README.md. The build stage is the same in every service's Dockerfile
# (and builds all five services), so building the five images compiles once.

# ---- build: Debian 12 with the project's build dependencies (packaging/dev/setup.sh's list,
# without the tools only tests and the console need at run time). The top-level CMakeLists.txt
# configures the whole project (Qt included), so configuring needs the Qt and ncurses headers;
# only the service targets are compiled.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev qt6-tools-dev qt6-tools-dev-tools libqt6opengl6-dev \
      qt6-l10n-tools libgl-dev \
      libboost-dev prometheus-cpp-dev libpqxx-dev libpq-dev libhiredis-dev libsqlite3-dev libssl-dev \
      libjwt-dev nlohmann-json3-dev libyaml-cpp-dev libpugixml-dev libcli11-dev libspdlog-dev \
      libncurses-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The release preset's settings (Ninja, Release), built outside the source tree so that a
# build/ directory in the context (see the .dockerignore files) cannot get in the way.
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build --target mambogo-gateway mambogo-product mambogo-cart mambogo-order mambogo-payment

# ---- runtime: Debian 12 slim with only the shared libraries mambogo-gateway links (ldd), as a
# non-root user. No shell tools beyond the base image's: the health check uses bash's /dev/tcp.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libstdc++6 \
      libhiredis0.14 \
      libjemalloc2 \
      libjwt0 \
      libprometheus-cpp-core1.0 \
      libspdlog1.10 \
      libssl3 \
      libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mambogo \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/mambogo --no-create-home \
      --shell /usr/sbin/nologin mambogo \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/mambogo /var/lib/mambogo/data
COPY --from=build /build/cluster/gateway/mambogo-gateway /usr/local/bin/mambogo-gateway
# Every service listens on 8080 in a container, as in the manifests (the binaries' own
# defaults differ per service). DATA_DIR holds the SQLite file when no DB_URL is given.
# AUTH_KEYS_FILE (or AUTH_HS256_SECRET) must be provided at run time: the key set is never
# baked into an image.
ENV SERVER_PORT=8080 \
    DATA_DIR=/var/lib/mambogo/data
WORKDIR /var/lib/mambogo
USER 10001:10001
EXPOSE 8080
# Liveness (/health/live = /actuator/health/liveness): whether the process serves, not whether
# its database is up — the same choice as the manifests' livenessProbe.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SERVER_PORT:-8080} && printf 'GET /health/live HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mambogo-gateway"]
