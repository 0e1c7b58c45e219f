#!/usr/bin/env bash
# Real test environment for lacework-fargate: a Docker engine, a CNCF Distribution
# registry on loopback and the fixture images the tests use (Docker Hub is not
# reachable, so every image is built here from Debian packages).
#
#   scripts/test-env.sh up     install what is missing, start dockerd + registry,
#                              build/push the fixture images (idempotent, fast when warm)
#   scripts/test-env.sh down   stop dockerd and the registry (data dirs are kept)
#   scripts/test-env.sh env    print the env file (source it: DOCKER_HOST, LWF_REGISTRY)
#
# Work dir: W=${LWF_TEST_DIR:-/tmp/lwf-test}. Needs root (Debian 12, as on CI).
# Fixture sources: __tests__/fixtures/images/<name>/. See /work/shared/TEST-ENV.md.
set -Eeuo pipefail
trap 'echo "test-env: ERROR: unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

W=${LWF_TEST_DIR:-/tmp/lwf-test}
REGISTRY=${LWF_REGISTRY_ADDR:-127.0.0.1:5000}
DEBIAN_MIRROR=${LWF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FIXTURES=$REPO_ROOT/__tests__/fixtures/images
LOGS=$W/logs
HASH_LABEL=lwf.fixture.hash
ECS_MODEL=/usr/lib/python3/dist-packages/botocore/data/ecs/2014-11-13/service-2.json

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DOCKER_HOST=unix://$W/docker.sock
# Plain `docker build`: never force BuildKit (the docker 28 client here has no buildx).
unset DOCKER_BUILDKIT

# Applets linked into the busybox fixture (no package manager among them).
BUSYBOX_APPLETS="sh id whoami sleep httpd cat echo ls ps grep awk sed cut tr mkdir cp kill env
  chmod rm mv ln true false test printf head tail wc wget uname hostname"

log() { echo "test-env: $*" >&2; }
tail_log() {
  local f=$1
  echo "test-env: ---- last 40 lines of $f ----" >&2
  tail -n 40 "$f" >&2 2>/dev/null || true
  echo "test-env: ---- end of $f ----" >&2
}
die() { log "ERROR: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# pid_is PID WORD: the process PID is alive and its command line mentions WORD.
pid_is() {
  local pid=$1 word=$2
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$word"
}

# ---------------------------------------------------------------- packages
policy_rc_created=
cleanup_policy_rc() {
  if [ -n "$policy_rc_created" ]; then rm -f /usr/sbin/policy-rc.d; policy_rc_created=; fi
}

ensure_packages() {
  local -a need=()
  local p
  add() { local x; for x in "${need[@]}"; do [ "$x" = "$1" ] && return 0; done; need+=("$1"); }
  have dockerd || add docker.io
  have docker || add docker.io
  have docker-registry || add docker-registry
  have debootstrap || add debootstrap
  have busybox || add busybox-static
  have skopeo || add skopeo
  have htpasswd || add apache2-utils
  have curl || add curl
  have openssl || add openssl
  # AWS's ECS service model (enums, limits), read by the tests' ECS validator and API stand-in.
  [ -f "$ECS_MODEL" ] || add python3-botocore
  [ "${#need[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "must run as root to install: ${need[*]}"
  have apt-get || die "apt-get not found: install ${need[*]} by hand"
  log "installing ${need[*]} (log: $LOGS/apt.log)"
  # Keep Debian's maintainer scripts from starting the packaged services
  # (a system dockerd, or docker-registry with htpasswd auth on :5000).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    policy_rc_created=1
    trap cleanup_policy_rc EXIT
  fi
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"; } >>"$LOGS/apt.log" 2>&1; then
    tail_log "$LOGS/apt.log"
    die "apt-get install ${need[*]} failed"
  fi
  cleanup_policy_rc
  for p in dockerd docker docker-registry debootstrap busybox skopeo htpasswd curl; do
    have "$p" || die "$p still missing after apt-get install"
  done
  [ -f "$ECS_MODEL" ] || die "$ECS_MODEL still missing after apt-get install python3-botocore"

}

# ---------------------------------------------------------------- dockerd
docker_ok() { docker info >/dev/null 2>&1; }

start_dockerd() {
  if docker_ok; then log "dockerd already running ($DOCKER_HOST)"; return 0; fi
  mkdir -p "$W/docker/data" "$W/docker/exec"
  local pidfile=$W/docker/dockerd.pid pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
  if pid_is "$pid" dockerd; then
    log "dockerd (pid $pid) is starting, waiting for it"
  else
    log "starting dockerd (log: $W/dockerd.log)"
    setsid dockerd --data-root "$W/docker/data" --exec-root "$W/docker/exec" \
      --pidfile "$pidfile" -H "$DOCKER_HOST" >>"$W/dockerd.log" 2>&1 </dev/null 9>&- &
    pid=$!
  fi
  local i
  for i in $(seq 150); do
    docker_ok && { log "dockerd ready"; return 0; }
    pid_is "$pid" dockerd || break
    sleep 0.2
  done
  tail_log "$W/dockerd.log"
  if pid_is "$pid" dockerd; then die "dockerd did not answer on $DOCKER_HOST within 30 s"; fi
  die "dockerd exited before answering on $DOCKER_HOST (see $W/dockerd.log)"
}

# ---------------------------------------------------------------- registry
registry_ok() { curl -fsS -o /dev/null --max-time 5 "http://$REGISTRY/v2/" 2>/dev/null; }

start_registry() {
  if registry_ok; then log "registry already answering on $REGISTRY"; return 0; fi
  mkdir -p "$W/registry-data"
  cat >"$W/registry.yml" <<EOF
version: 0.1
log: {level: info}
storage:
  filesystem: {rootdirectory: $W/registry-data}
  delete: {enabled: true}
http: {addr: $REGISTRY}
EOF
  local pid="" i
  [ -f "$W/registry.pid" ] && pid=$(cat "$W/registry.pid" 2>/dev/null || true)
  if pid_is "$pid" docker-registry; then
    log "registry (pid $pid) is starting, waiting for it"
  else
    log "starting docker-registry on $REGISTRY (log: $W/registry.log)"
    setsid docker-registry serve "$W/registry.yml" >>"$W/registry.log" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$W/registry.pid"
  fi
  for i in $(seq 150); do
    registry_ok && { log "registry ready"; return 0; }
    pid_is "$pid" docker-registry || break
    sleep 0.2
  done
  tail_log "$W/registry.log"
  if pid_is "$pid" docker-registry; then die "registry did not answer on http://$REGISTRY/v2/ within 30 s"; fi
  die "registry exited before answering on http://$REGISTRY/v2/ (see $W/registry.log)"
}

# ---------------------------------------------------------------- images
# fixture_hash DIR EXTRA...: hash of a fixture directory (names, modes, contents) and extras.
fixture_hash() {
  local dir=$1 f
  shift
  {
    printf '%s\n' "$@"
    if [ -n "$dir" ]; then
      (cd "$dir" && find . \( -type f -o -type l \) -print | LC_ALL=C sort | while IFS= read -r f; do
        printf '== %s\n' "$f"
        if [ -L "$f" ]; then readlink "$f"; else stat -c '%a' "$f"; cat "$f"; fi
      done)
    fi
  } | sha256sum | cut -c1-20
}

local_hash() {
  docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

# registry_digest REF: digest of REF's manifest in the registry, empty if absent.
registry_digest() {
  local path=${1#"$REGISTRY"/}
  local name=${path%:*} tag=${path##*:}
  curl -fsS -I --max-time 10 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REGISTRY/v2/$name/manifests/$tag" 2>/dev/null |
    tr -d '\r' | awk 'tolower($1)=="docker-content-digest:"{print $2}' || true
}

# in_sync REF: the registry's manifest for REF is the one this engine pushed.
in_sync() {
  local ref=$1 digest repo=${1%:*}
  digest=$(registry_digest "$ref")
  [ -n "$digest" ] || return 1
  docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" 2>/dev/null |
    grep -qxF "$repo@$digest"
}

BUILT=()
PUSHED=()

push_image() {
  local ref=$1 name=$2
  log "pushing $ref"
  if ! docker push "$ref" >>"$LOGS/push-$name.log" 2>&1; then
    tail_log "$LOGS/push-$name.log"
    die "docker push $ref failed"
  fi
  in_sync "$ref" || die "$ref: registry digest does not match the local image after push"
  PUSHED+=("$name")
}

# expect_config REF GOTEMPLATE WANTED...: fail unless the image config field is one of WANTED.
expect_config() {
  local ref=$1 tmpl=$2 got w
  shift 2
  got=$(docker image inspect --format "$tmpl" "$ref")
  for w in "$@"; do [ "$got" = "$w" ] && return 0; done
  die "$ref: $tmpl is '$got', expected one of: $*"
}

busybox_static_binary() {
  local bb
  bb=$(command -v busybox || true)
  if [ -n "$bb" ] && ! ldd "$bb" >/dev/null 2>&1; then  # ldd fails on static binaries
    echo "$bb"
    return 0
  fi
  # A dynamic busybox is installed: unpack busybox-static without installing it.
  local d=$W/cache/busybox-static
  if [ ! -x "$d/bin/busybox" ]; then
    log "busybox at '${bb:-none}' is not static; unpacking Debian's busybox-static into $d"
    rm -rf "$d" && mkdir -p "$d/deb"
    if ! (cd "$d/deb" && apt-get download busybox-static && dpkg-deb -x ./busybox-static_*.deb "$d") \
        >>"$LOGS/apt.log" 2>&1; then
      tail_log "$LOGS/apt.log"
      die "could not get busybox-static"
    fi
  fi
  echo "$d/bin/busybox"
}

# Safe removal of a debootstrap target: unmount what may still be mounted inside.
remove_rootfs() {
  local dir=$1 m
  [ -d "$dir" ] || return 0
  if have findmnt; then
    { findmnt -rn -o TARGET | grep -F "$dir/" || true; } | sort -r | while IFS= read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
  fi
  rm -rf --one-file-system "$dir"
}

build_debian() {
  local ref=$1 hash=$2
  local tarball=$W/cache/debian-$SUITE-minbase.tar
  if [ ! -s "$tarball" ]; then
    local rootfs=$W/tmp/debian-rootfs
    mkdir -p "$W/cache" "$W/tmp"
    remove_rootfs "$rootfs"
    log "debootstrap --variant=minbase $SUITE (log: $LOGS/debootstrap.log, ~30 s)"
    if ! debootstrap --variant=minbase "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >>"$LOGS/debootstrap.log" 2>&1; then
      tail_log "$LOGS/debootstrap.log"
      remove_rootfs "$rootfs"
      die "debootstrap failed"
    fi
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    remove_rootfs "$rootfs"
  else
    log "using cached rootfs $tarball"
  fi
  log "importing $ref"
  if ! docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change "LABEL $HASH_LABEL=$hash" \
      "$tarball" "$ref" >>"$LOGS/build-debian.log" 2>&1; then
    tail_log "$LOGS/build-debian.log"
    die "docker import failed"
  fi
}

# docker_build NAME REF HASH CONTEXT [BASE]
docker_build() {
  local name=$1 ref=$2 hash=$3 ctx=$4 base=${5:-}
  local -a args=(build --label "$HASH_LABEL=$hash" -t "$ref")
  [ -n "$base" ] && args+=(--build-arg "BASE=$base")
  [ "$name" = busybox ] && args+=(--network none)
  log "building $ref (log: $LOGS/build-$name.log)"
  : >"$LOGS/build-$name.log"
  if ! docker "${args[@]}" "$ctx" >>"$LOGS/build-$name.log" 2>&1; then
    tail_log "$LOGS/build-$name.log"
    die "docker build of $ref failed"
  fi
}

build_busybox() {
  local ref=$1 hash=$2 bb=$3
  local ctx=$W/build/busybox a
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/rootfs/tmp" "$ctx/rootfs/home/app" "$ctx/rootfs/root"
  cp "$bb" "$ctx/rootfs/bin/busybox"
  chmod 0755 "$ctx/rootfs/bin/busybox"
  for a in $BUSYBOX_APPLETS; do ln -s busybox "$ctx/rootfs/bin/$a"; done
  cp "$FIXTURES/busybox/passwd" "$FIXTURES/busybox/group" "$ctx/rootfs/etc/"
  cp "$FIXTURES/busybox/index.html" "$ctx/rootfs/home/app/"
  chmod 0644 "$ctx/rootfs/etc/passwd" "$ctx/rootfs/etc/group" "$ctx/rootfs/home/app/index.html"
  chmod 1777 "$ctx/rootfs/tmp"
  chmod 0700 "$ctx/rootfs/root"
  chown -R 1000:1000 "$ctx/rootfs/home/app"
  tar --numeric-owner --sort=name --mtime=@0 -C "$ctx/rootfs" -cf "$ctx/rootfs.tar" .
  rm -rf "$ctx/rootfs"
  cp "$FIXTURES/busybox/Dockerfile" "$ctx/"
  docker_build busybox "$ref" "$hash" "$ctx"
}

# One-layer agent (issue 10), as many vendors ship one: busybox, passwd/group and the backup tree in a single
# tarball imported with `docker import` (the layer keeps the tarball's bytes, "./"-prefixed names included).
build_agent_single_layer() {
  local ref=$1 hash=$2 bb=$3
  local ctx=$W/build/agent-single-layer src=$FIXTURES/agent-single-layer a
  local root=$ctx/rootfs
  rm -rf "$ctx"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/var/lib/lacework-backup"
  install -m 0755 "$bb" "$root/bin/busybox"
  for a in $(grep -v '^#' "$src/applets"); do ln -s busybox "$root/bin/$a"; done
  install -m 0644 "$src/passwd" "$src/group" "$root/etc/"
  install -m 0755 "$FIXTURES/lacework-sidecar/lacework-sidecar.sh" "$src/datacollector" "$root/var/lib/lacework-backup/"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$root" -cf "$ctx/rootfs.tar" .
  rm -rf "$root"
  log "importing $ref (log: $LOGS/build-agent-single-layer.log)"
  if ! docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'VOLUME /var/lib/lacework-backup' \
      --change 'CMD ["/bin/true"]' \
      --change 'LABEL org.opencontainers.image.title="lwf-test lacework agent, one layer"' \
      --change "LABEL $HASH_LABEL=$hash" \
      "$ctx/rootfs.tar" "$ref" >"$LOGS/build-agent-single-layer.log" 2>&1; then
    tail_log "$LOGS/build-agent-single-layer.log"
    die "docker import of $ref failed"
  fi
}

# Agent whose backup tree is spread over layers with Docker's own whiteouts (issue 10): legacy builder
# (DOCKER_BUILDKIT=0: its overlay2 differ writes the .wh. files), no network, on the busybox fixture.
build_agent_spread() {
  local ref=$1 hash=$2 base=$3
  local ctx=$W/build/agent-spread
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$FIXTURES/agent-spread/." "$ctx/"
  install -m 0755 "$FIXTURES/lacework-sidecar/lacework-sidecar.sh" "$ctx/backup/"
  mkdir -p "$ctx/agent"
  install -m 0755 "$FIXTURES/agent-single-layer/datacollector" "$ctx/agent/"
  ln -s lacework-sidecar.sh "$ctx/agent/current"
  ln "$ctx/agent/datacollector" "$ctx/agent/datacollector.hardlink"
  log "building $ref (log: $LOGS/build-agent-spread.log)"
  if ! DOCKER_BUILDKIT=0 docker build --network none --build-arg "BASE=$base" --label "$HASH_LABEL=$hash" -t "$ref" "$ctx" \
      >"$LOGS/build-agent-spread.log" 2>&1; then
    tail_log "$LOGS/build-agent-spread.log"
    die "docker build of $ref failed"
  fi
}

# The multi-platform fixtures (issue 10), written through the registry API by a Node script from the
# fixtures pushed above; it skips what the registry already holds.
assemble_indexes() {
  local node out name ref digest state
  node=$(command -v node || true)
  [ -n "$node" ] || node=$REPO_ROOT/node_modules/node/bin/node
  [ -x "$node" ] || die "node (>= 20) not found: scripts/fixtures/assemble-indexes.mjs needs it"
  echo "---- $(date -u +%FT%TZ)" >>"$LOGS/assemble-indexes.log"
  if ! out=$("$node" "$REPO_ROOT/scripts/fixtures/assemble-indexes.mjs" "$REGISTRY" 2>>"$LOGS/assemble-indexes.log"); then
    tail_log "$LOGS/assemble-indexes.log"
    die "scripts/fixtures/assemble-indexes.mjs failed"
  fi
  while read -r name ref digest state; do
    case $state in
      written) log "assembled $ref ($digest)"; PUSHED+=("$name") ;;
      unchanged) log "$ref is up to date" ;;
      *) die "assemble-indexes.mjs: unexpected output line: $name $ref $digest $state" ;;
    esac
  done <<<"$out"
}

# expect_skopeo REF JS WANTED [SKOPEO_GLOBAL_OPTION...]: fail unless JS (an expression over the JSON `j`
# that `skopeo inspect --raw` prints, after the options: --config picks a config) gives WANTED.
expect_skopeo() {
  local ref=$1 js=$2 want=$3 got node
  shift 3
  local -a global=() sub=(inspect --raw --tls-verify=false)
  while [ $# -gt 0 ]; do
    if [ "$1" = --config ]; then sub+=(--config); else global+=("$1"); fi
    shift
  done
  node=$(command -v node || echo "$REPO_ROOT/node_modules/node/bin/node")
  got=$(skopeo "${global[@]}" "${sub[@]}" "docker://$ref" |
    "$node" -e "const j = JSON.parse(require('fs').readFileSync(0, 'utf8')); process.stdout.write(String($js))") ||
    die "$ref: skopeo inspect ${global[*]} ${sub[*]} failed"
  [ "$got" = "$want" ] || die "$ref (${global[*]}): '$got', expected '$want'"
}

# ensure_image NAME REF HASH BUILDER...: build REF unless this engine has it with HASH,
# push it unless the registry already serves the same manifest.
ensure_image() {
  local name=$1 ref=$2 hash=$3
  shift 3
  if [ "$(local_hash "$ref")" = "$hash" ]; then
    if in_sync "$ref"; then
      log "$ref is up to date"
      return 0
    fi
  else
    "$@"
    [ "$(local_hash "$ref")" = "$hash" ] || die "$ref: built image lacks label $HASH_LABEL=$hash"
    BUILT+=("$name")
  fi
  push_image "$ref" "$name"
}

build_images() {
  local debian=$REGISTRY/lwf-test/debian:$SUITE
  local nginx=$REGISTRY/lwf-test/nginx:1.23.1
  local unpriv=$REGISTRY/lwf-test/nginx-unprivileged:1.23.1
  local cmdonly=$REGISTRY/lwf-test/cmd-only:1
  local busybox=$REGISTRY/lwf-test/busybox:1
  local agent=$REGISTRY/lacework/datacollector:latest-sidecar
  local agent1=$REGISTRY/lwf-test/agent-single-layer:1
  local spread=$REGISTRY/lwf-test/agent-spread:1
  local h_debian h_nginx h_unpriv h_cmdonly h_busybox h_agent h_agent1 h_spread bb bb_sum sidecar_sum dc_sum

  h_debian=$(fixture_hash "" "debian v1" "$SUITE" minbase "$DEBIAN_MIRROR")
  h_nginx=$(fixture_hash "$FIXTURES/nginx" "$h_debian")
  h_unpriv=$(fixture_hash "$FIXTURES/nginx-unprivileged" "$h_debian")
  h_cmdonly=$(fixture_hash "$FIXTURES/cmd-only" "$h_nginx")
  h_agent=$(fixture_hash "$FIXTURES/lacework-sidecar" "$h_debian")
  bb=$(busybox_static_binary)
  bb_sum=$(sha256sum "$bb" | cut -d' ' -f1)
  h_busybox=$(fixture_hash "$FIXTURES/busybox" "$bb_sum" "$BUSYBOX_APPLETS" "v1")
  sidecar_sum=$(sha256sum "$FIXTURES/lacework-sidecar/lacework-sidecar.sh" | cut -d' ' -f1)
  dc_sum=$(sha256sum "$FIXTURES/agent-single-layer/datacollector" | cut -d' ' -f1)
  h_agent1=$(fixture_hash "$FIXTURES/agent-single-layer" "$bb_sum" "$sidecar_sum" "v1")
  h_spread=$(fixture_hash "$FIXTURES/agent-spread" "$h_busybox" "$sidecar_sum" "$dc_sum" "v1")

  ensure_image debian "$debian" "$h_debian" build_debian "$debian" "$h_debian"
  ensure_image nginx "$nginx" "$h_nginx" \
    docker_build nginx "$nginx" "$h_nginx" "$FIXTURES/nginx" "$debian"
  ensure_image nginx-unprivileged "$unpriv" "$h_unpriv" \
    docker_build nginx-unprivileged "$unpriv" "$h_unpriv" "$FIXTURES/nginx-unprivileged" "$debian"
  ensure_image cmd-only "$cmdonly" "$h_cmdonly" \
    docker_build cmd-only "$cmdonly" "$h_cmdonly" "$FIXTURES/cmd-only" "$nginx"
  ensure_image busybox "$busybox" "$h_busybox" build_busybox "$busybox" "$h_busybox" "$bb"
  ensure_image lacework-sidecar "$agent" "$h_agent" \
    docker_build lacework-sidecar "$agent" "$h_agent" "$FIXTURES/lacework-sidecar" "$debian"
  ensure_image agent-single-layer "$agent1" "$h_agent1" build_agent_single_layer "$agent1" "$h_agent1" "$bb"
  ensure_image agent-spread "$spread" "$h_spread" build_agent_spread "$spread" "$h_spread" "$busybox"
  # After their sources are pushed: the indexes reuse those manifests' blobs.
  assemble_indexes

  # The properties the tests rely on.
  expect_config "$nginx" '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}' \
    '|["/docker-entrypoint.sh"]|["nginx","-g","daemon off;"]'
  expect_config "$unpriv" '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}' \
    '101|["/docker-entrypoint.sh"]|["nginx","-g","daemon off;"]'
  expect_config "$cmdonly" '{{json .Config.Entrypoint}}|{{json .Config.Cmd}}' \
    'null|["nginx","-g","daemon off;"]' '[]|["nginx","-g","daemon off;"]'
  expect_config "$busybox" '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}' \
    '1000|null|["httpd","-f","-p","8080"]'
  expect_config "$agent" '{{json .Config.Volumes}}|{{json .Config.Cmd}}' \
    '{"/var/lib/lacework-backup":{}}|["/bin/true"]'
  expect_config "$agent1" '{{len .RootFS.Layers}}|{{json .Config.Volumes}}|{{json .Config.Cmd}}' \
    '1|{"/var/lib/lacework-backup":{}}|["/bin/true"]'
  expect_config "$spread" '{{json .Config.Volumes}}|{{json .Config.Cmd}}' \
    '{"/var/lib/lacework-backup":{}}|["/bin/true"]'
  local multiapp=$REGISTRY/lwf-test/multi-app:1 multiagent=$REGISTRY/lwf-test/multi-agent:1
  local platforms='j.mediaType + "|" + j.manifests.map(m => [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/")).join(",")'
  local facts='[j.architecture, j.config.User, JSON.stringify(j.config.Cmd)].join("|")'
  expect_skopeo "$multiapp" "$platforms" 'application/vnd.oci.image.index.v1+json|linux/amd64,linux/arm64/v8,unknown/unknown'
  expect_skopeo "$multiapp" "$facts" 'amd64||["nginx","-g","daemon off;"]' --config --override-os linux --override-arch amd64
  expect_skopeo "$multiapp" "$facts" 'arm64|101|["nginx","-g","daemon off; worker_processes 2;"]' \
    --config --override-os linux --override-arch arm64 --override-variant v8
  expect_skopeo "$multiagent" "$platforms" 'application/vnd.docker.distribution.manifest.list.v2+json|linux/amd64,linux/arm64'
  expect_skopeo "$multiagent" '[j.architecture, JSON.stringify(j.config.Volumes)].join("|")' 'arm64|{"/var/lib/lacework-backup":{}}' \
    --config --override-os linux --override-arch arm64
}

write_env() {
  cat >"$W/env.tmp" <<EOF
export DOCKER_HOST=unix://$W/docker.sock
export LWF_REGISTRY=$REGISTRY
EOF
  mv "$W/env.tmp" "$W/env"
}

lock() {
  mkdir -p "$W" "$LOGS"
  exec 9>"$W/.lock"
  flock -w 900 9 || die "another test-env.sh holds $W/.lock"
}

cmd_up() {
  local start=$SECONDS
  lock
  ensure_packages
  start_dockerd
  start_registry
  build_images
  write_env
  echo "test-env: ready in $((SECONDS - start)) s: DOCKER_HOST=$DOCKER_HOST LWF_REGISTRY=$REGISTRY" \
    "built=[${BUILT[*]:-}] pushed=[${PUSHED[*]:-}] (source $W/env)"
}

# stop_pid NAME PIDFILE WORD TIMEOUT_S
stop_pid() {
  local name=$1 pidfile=$2 word=$3 timeout=$4 pid="" i
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
  if ! pid_is "$pid" "$word"; then
    log "$name is not running"
    rm -f "$pidfile"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq $((timeout * 5))); do
    pid_is "$pid" "$word" || { rm -f "$pidfile"; log "$name stopped"; return 0; }
    sleep 0.2
  done
  log "$name did not stop within $timeout s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$pidfile"
}

cmd_down() {
  lock
  stop_pid registry "$W/registry.pid" docker-registry 10
  stop_pid dockerd "$W/docker/dockerd.pid" dockerd 40
}

cmd_env() {
  [ -f "$W/env" ] || die "$W/env does not exist: run '$0 up' first"
  cat "$W/env"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  *) echo "usage: $0 up|down|env   (work dir: \$LWF_TEST_DIR, default /tmp/lwf-test)" >&2; exit 2 ;;
esac
