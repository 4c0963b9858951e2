#!/bin/bash
# The "postgres" image of mambogo-cluster: PostgreSQL 15 in the foreground, as the official
# image runs it, listening on $POD_IP:$MAMBOGO_POSTGRES_PORT with its data in $PGDATA (the kubelet has
# already translated the mount path to a host directory).
#
# Primary (default): initdb on first start (trust auth, as POSTGRES_HOST_AUTH_METHOD=trust; a
# copy of an earlier initdb's result when MAMBOGO_PG_TEMPLATES holds one), configured for
# streaming replication (wal_level replica, max_wal_senders, hot_standby).
# Replica: with POSTGRES_PRIMARY_HOST (and POSTGRES_PRIMARY_PORT, default 5432) set, the server
# starts as a hot standby from what is in the data directory: normally filled by the pod's init
# container (packaging/kubernetes/full/postgres.yaml: clone-primary, pg_basebackup
# --write-recovery-conf); when it is still empty (a manifest without that init container) it is
# filled here the same way, retried until the primary answers.
# Optional: POSTGRES_USER (default postgres), POSTGRES_DB (created on first start of a primary).
#
# As root the server runs as the postgres user (setpriv, which keeps the kubelet's death
# signal so no server outlives mambogo-cluster). The data directory's parents must be
# traversable by that user.
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
: "${PGDATA:?PGDATA must name the data directory}"
PORT=${MAMBOGO_POSTGRES_PORT:-5432}
LISTEN=${POD_IP:-127.0.0.1}
SUPERUSER=${POSTGRES_USER:-postgres}

die() { echo "postgres.sh: $*" >&2; exit 1; }
[ -x "$PGBIN/postgres" ] || die "no PostgreSQL server found (looked in /usr/lib/postgresql/*/bin); install postgresql"

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups --pdeathsig=KILL -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$PGDATA"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user"
  chown postgres:postgres "$PGDATA"
  # As the official image's entrypoint does: what an init container wrote as root (the
  # replica's pg_basebackup) becomes the server's.
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  as_pg test -x "$PGDATA" || die "user postgres cannot reach $PGDATA (a parent directory is not traversable: chmod o+x it)"
fi
chmod 700 "$PGDATA"

configure() {
  cat >> "$PGDATA/postgresql.conf" <<CONF
# mambogo-cluster (address, port and sockets are given on the command line)
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 10
hot_standby = on
max_connections = 100
shared_buffers = 32MB
CONF
  echo "host all all 127.0.0.0/8 trust" >> "$PGDATA/pg_hba.conf"
  echo "host replication all 127.0.0.0/8 trust" >> "$PGDATA/pg_hba.conf"
}

# The official image's /docker-entrypoint-initdb.d: *.sql files, in name order, run once after
# initdb against a server on a private socket. The kubelet says where the mounts are.
run_init_scripts() {
  local files=() inside host
  while IFS='=' read -r inside host; do
    case "$inside" in
      /docker-entrypoint-initdb.d/*.sql) files+=("$host") ;;
      /docker-entrypoint-initdb.d | /docker-entrypoint-initdb.d/) for f in "$host"/*.sql; do [ -f "$f" ] && files+=("$f"); done ;;
    esac
  done <<< "${MAMBOGO_MOUNTS:-}"
  [ "${#files[@]}" -gt 0 ] || return 0
  local sock
  sock=$(mktemp -d /tmp/mambogo-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$sock"
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -s -o "-c listen_addresses='' -c unix_socket_directories=$sock" start
  local status=0
  while IFS= read -r f; do
    echo "postgres.sh: running $(basename "$f")" >&2
    as_pg "$PGBIN/psql" -v ON_ERROR_STOP=1 -q -h "$sock" -U "$SUPERUSER" -d postgres < "$f" || { status=1; break; }
  done < <(for f in "${files[@]}"; do printf '%s\t%s\n' "$(basename "$f")" "$f"; done | sort | cut -f2)
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -w -s -m fast stop
  rm -rf "$sock"
  # A failed script leaves no half-initialised cluster behind: the next start begins again.
  [ "$status" = 0 ] || { rm -rf "${PGDATA:?}"/*; die "an init script failed"; }
}

# initdb, or a copy of what it produced before: its result depends only on the server's version
# and the options below, so MAMBOGO_PG_TEMPLATES (a directory kept across clusters) holds one
# freshly initialised cluster per version and options. Filling it never fails the start.
init_cluster() {
  local args=(-U "$SUPERUSER" -A trust -E UTF8 --locale=C.UTF-8) root=${MAMBOGO_PG_TEMPLATES:-} template= tmp
  case "$root" in *'${'*) root= ;; esac  # the image map's ${MAMBOGO_CACHE_DIR} was not given
  if [ -n "$root" ]; then
    template="$root/$({ "$PGBIN/postgres" -V; printf '%s\n' "${args[@]}"; } | md5sum | cut -c1-16)"
    if [ -s "$template/PG_VERSION" ] && [ -z "$(ls -A "$PGDATA")" ]; then
      if cp -a "$template/." "$PGDATA/"; then
        echo "postgres.sh: data directory initialised from the template $template" >&2
        return 0
      fi
      find "$PGDATA" -mindepth 1 -delete
    fi
  fi
  as_pg "$PGBIN/initdb" -D "$PGDATA" "${args[@]}" --no-sync
  if [ -n "$template" ] && [ ! -e "$template" ]; then
    { mkdir -p "$root" && tmp=$(mktemp -d "$root/.new.XXXXXX") && cp -a "$PGDATA/." "$tmp/" &&
        mv -T "$tmp" "$template"; } 2>/dev/null || rm -rf "${tmp:-/nonexistent}"
  fi
  return 0
}

if [ -n "${POSTGRES_PRIMARY_HOST:-}" ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    primary_port=${POSTGRES_PRIMARY_PORT:-5432}
    for attempt in $(seq 1 60); do
      if as_pg "$PGBIN/pg_basebackup" -h "$POSTGRES_PRIMARY_HOST" -p "$primary_port" -U "$SUPERUSER" \
          -D "$PGDATA" -R -X stream -c fast; then
        break
      fi
      echo "postgres.sh: primary $POSTGRES_PRIMARY_HOST:$primary_port not ready (attempt $attempt), retrying" >&2
      rm -rf "${PGDATA:?}"/* ; sleep 1
    done
    [ -s "$PGDATA/PG_VERSION" ] || die "pg_basebackup from $POSTGRES_PRIMARY_HOST:$primary_port failed"
  fi
else
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_cluster
    configure
    if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
      as_pg "$PGBIN/postgres" --single -D "$PGDATA" -c listen_addresses='' postgres \
        <<< "CREATE DATABASE \"$POSTGRES_DB\";" >/dev/null
    fi
    run_init_scripts
  fi
fi
# The official image's entrypoint: the server replaces the script (signals reach it directly).
# TCP only: a pod's data directory is too deep for a Unix socket path (107 bytes at most).
server=("$PGBIN/postgres" -D "$PGDATA" -c "listen_addresses=$LISTEN" -c "port=$PORT"
        -c "unix_socket_directories=")
if [ "$(id -u)" = 0 ]; then
  exec setpriv --reuid=postgres --regid=postgres --init-groups --pdeathsig=KILL -- "${server[@]}"
fi
exec "${server[@]}"
