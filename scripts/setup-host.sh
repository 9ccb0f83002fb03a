#!/usr/bin/env bash
# Prepares a Debian (bookworm) machine to run bot-bottle and its tests. Idempotent: a second run
# only checks what the first one set up. Runs as root (it installs packages and starts dockerd).
#
#   - npm dependencies and the compiled CLI
#   - a Docker engine from Debian's packages, started in the background when none answers
#   - gVisor's runsc (bookworm-backports' on bookworm), registered with the flags that work on
#     these machines and re-registered when they no longer match the installed runsc
#   - a locally built base image (no registry is reachable here), tagged bot-bottle/base:bookworm
#   - chromium from Debian, for the dashboard's browser tests
#   - gcc and libc6-dev, to build the agent's relay in its unit tests
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base_tag=${BOT_BOTTLE_BASE_IMAGE:-bot-bottle/base:bookworm}

# gVisor: bookworm's own runsc (2022-12) fails statx with AT_NO_AUTOMOUNT, so `ls -la` and `stat`
# print "Invalid argument" in every bottle; bookworm-backports has 0.0~20240729, which does not.
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
runsc_min=0.0~20240729
backports_file=/etc/apt/sources.list.d/bot-bottle-bookworm-backports.sources
apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }; }
if [ "$codename" = bookworm ] && ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding bookworm-backports as an apt source ($backports_file)"
  cat >"$backports_file" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  apt_updated=0
fi

need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v tmux >/dev/null || need_pkgs+=(tmux)
command -v git >/dev/null || need_pkgs+=(git)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
# The agent's relay (images/agent-common/relay.c) is built on the host too by its unit tests.
command -v gcc >/dev/null || need_pkgs+=(gcc)
dpkg-query -W -f='${Status}' libc6-dev 2>/dev/null | grep -q 'ok installed' || need_pkgs+=(libc6-dev)
export DEBIAN_FRONTEND=noninteractive
# The dashboard's browser tests drive Debian's chromium with playwright-core (no browser download).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  apt_update
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
runsc_version=$(dpkg-query -W -f='${Version}' runsc 2>/dev/null || true)
if [ -z "$runsc_version" ] && command -v runsc >/dev/null; then
  log "runsc at $(command -v runsc) is not Debian's package: kept as it is"
elif [ -z "$runsc_version" ] || dpkg --compare-versions "$runsc_version" lt "$runsc_min"; then
  if [ "$codename" = bookworm ]; then
    log "installing runsc from bookworm-backports (installed: ${runsc_version:-none})"
    apt_update
    apt-get install -y -qq --no-install-recommends -t bookworm-backports runsc >/dev/null
  elif [ -z "$runsc_version" ]; then
    log "installing runsc (not bookworm: the distribution's own)"
    apt_update
    apt-get install -y -qq --no-install-recommends runsc >/dev/null
  else
    log "runsc $runsc_version is older than $runsc_min: \`ls -la\` will fail in bottles (see bottle doctor)"
  fi
fi

# runsc's flags: network-less (bottles have no network), and allowed to open host unix sockets
# (the gates). The uds flag is named by what the installed runsc knows: --host-uds=open, or
# --fsgofer-host-uds on gVisor older than 2023.
runsc_path=$(command -v runsc)
if runsc flags 2>&1 | grep -q -- '-host-uds value'; then uds_flag=--host-uds=open; else uds_flag=--fsgofer-host-uds; fi
want_runsc=$(printf '{"path":"%s","runtimeArgs":["--network=none","%s"]}' "$runsc_path" "$uds_flag")

# Registered in /etc/docker/daemon.json (other keys kept); dockerd reads it at start, so a
# registration that changed restarts dockerd.
mkdir -p /etc/docker
registration=$(node -e '
  const fs = require("fs");
  const [file, want] = process.argv.slice(1);
  let config = {};
  if (fs.existsSync(file)) config = JSON.parse(fs.readFileSync(file, "utf8"));
  const now = JSON.stringify((config.runtimes || {}).runsc || null);
  if (now === JSON.stringify(JSON.parse(want))) { console.log("same"); process.exit(0); }
  config.runtimes = { ...(config.runtimes || {}), runsc: JSON.parse(want) };
  fs.writeFileSync(file + ".tmp", JSON.stringify(config, null, 2) + "\n");
  fs.renameSync(file + ".tmp", file);
  console.log("changed");
' /etc/docker/daemon.json "$want_runsc")
if [ "$registration" = changed ]; then
  log "registered runsc in /etc/docker/daemon.json: --network=none $uds_flag"
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
