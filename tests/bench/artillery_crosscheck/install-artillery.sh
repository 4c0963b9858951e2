#!/usr/bin/env bash
# Installs Artillery (the independent load client that the cross-check compares mambogo-load
# with) into a project-local npm prefix and prints the path of its `artillery` executable.
#
#   install-artillery.sh [PREFIX]
#
# PREFIX defaults to $MAMBOGO_ARTILLERY_DIR, else ~/.cache/mambogo/artillery. Idempotent: when
# the pinned version is already there it only prints the path. Progress goes to stderr, the
# path alone to stdout, so `ARTILLERY=$(install-artillery.sh)` works.
#
# The version is pinned to the last 2.x release that runs on Node 18/20 (2.0.22 and later
# need Node >= 22.13). Needs node >= 18.16.1 and npm (Debian: apt-get install nodejs npm).
set -euo pipefail

version=2.0.21
prefix=${1:-${MAMBOGO_ARTILLERY_DIR:-$HOME/.cache/mambogo/artillery}}
bin="$prefix/node_modules/.bin/artillery"
manifest="$prefix/node_modules/artillery/package.json"

die() { echo "install-artillery.sh: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (apt-get install npm)"
node -e 'const [a,b,c]=process.versions.node.split(".").map(Number);
         process.exit(a>18||(a==18&&(b>16||(b==16&&c>=1)))?0:1)' ||
  die "node $(node --version) is too old: artillery@$version needs >= 18.16.1"

installed_version() {
  [[ -x $bin && -f $manifest ]] || return 1
  node -p "require('$manifest').version" 2>/dev/null
}

if [[ $(installed_version || true) == "$version" ]]; then
  echo "artillery@$version already in $prefix" >&2
else
  echo "installing artillery@$version into $prefix ..." >&2
  mkdir -p "$prefix"
  # A package.json of its own keeps npm from walking up into an enclosing project.
  [[ -f $prefix/package.json ]] || echo '{"name":"mambogo-artillery","private":true}' >"$prefix/package.json"
  # Artillery bundles a Playwright engine whose install step downloads a browser from outside
  # the npm registry; the HTTP engine the cross-check uses needs none.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$prefix" --no-audit --no-fund \
    --loglevel=error --save-exact "artillery@$version" >&2
  [[ $(installed_version || true) == "$version" ]] || die "npm finished but $bin is not artillery@$version"
fi
echo "$bin"
