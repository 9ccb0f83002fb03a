#!/usr/bin/env bash
# Prepares a Debian (bookworm) machine to run bot-bottle and its tests. Idempotent: a second run
# only checks what the first one set up. Runs as root (it installs packages and starts dockerd).
#
#   - npm dependencies and the compiled CLI
#   - a Docker engine from Debian's packages, started in the background when none answers
#   - gVisor's runsc, registered with the flags that work on these machines (see docs/ARCHITECTURE.md)
#   - a locally built base image (no registry is reachable here), tagged bot-bottle/base:bookworm
#   - chromium from Debian, for the dashboard's browser tests
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base_tag=${BOT_BOTTLE_BASE_IMAGE:-bot-bottle/base:bookworm}

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v runsc >/dev/null || need_pkgs+=(runsc)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v tmux >/dev/null || need_pkgs+=(tmux)
command -v git >/dev/null || need_pkgs+=(git)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
# The dashboard's browser tests drive Debian's chromium with playwright-core (no browser download).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# runsc: registered once; dockerd reads daemon.json at start, so write it before starting.
mkdir -p /etc/docker
if [ ! -f /etc/docker/daemon.json ] || ! grep -q runsc /etc/docker/daemon.json; then
  log "registering runsc in /etc/docker/daemon.json"
  cat >/etc/docker/daemon.json <<JSON
{
  "runtimes": {
    "runsc": {
      "path": "$(command -v runsc)",
      "runtimeArgs": ["--network=none", "--fsgofer-host-uds"]
    }
  }
}
JSON
  if docker info >/dev/null 2>&1; then
    log "restarting dockerd so it reads the new runtime"
    pkill -x dockerd || true
    for _ in $(seq 1 50); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
  fi
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

# Base image: Debian bookworm (minbase) with this machine's Node.js, standing in for the public
# node:20-bookworm-slim, which real users pull from a registry. It also trusts this machine's CA
# bundle (NODE_EXTRA_CA_CERTS), so npm inside image builds trusts what the host's npm trusts.
base_recipe=2
if [ "$(docker image inspect --format '{{index .Config.Labels "bot-bottle.base-recipe"}}' "$base_tag" 2>/dev/null)" != "$base_recipe" ]; then
  log "building base image $base_tag with debootstrap (about a minute)"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" >/dev/null
  node_bin=$(readlink -f "$(command -v node)")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  install -m 0755 "$node_bin" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/host-ca-bundle.pem"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-bundle.pem' \
    --change "LABEL bot-bottle.base-recipe=$base_recipe" \
    --change 'CMD ["node"]' - "$base_tag" >/dev/null
  rm -rf "$root"
  trap - EXIT
fi
log "base image: $base_tag"

cd "$here"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "compiling"
npm run --silent build
log "ready: docker $(docker version --format '{{.Server.Version}}'), runtimes: $(docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')"
