#!/usr/bin/env bash
# The one setup script: installs what nodeplane needs on Debian 12, reserves hugepages, builds,
# runs the tests and the lab demo. Run as root (package installs, hugepages, network namespaces).
#
#   scripts/setup.sh deps        install missing Debian packages (no network when all are present)
#   scripts/setup.sh hugepages   reserve 512 x 2 MB hugepages and mount hugetlbfs (best effort)
#   scripts/setup.sh build       configure (Ninja, RelWithDebInfo) into <repo>/build and build
#   scripts/setup.sh test        deps + hugepages + build + ctest (exit status is ctest's)
#   scripts/setup.sh lab [ARGS]  deps + hugepages + build + deploy/local/nodeplane-lab demo ARGS
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build"
LAB="$ROOT/deploy/local/nodeplane-lab"

HUGEPAGES_WANTED=512   # 2 MB pages: 1 GiB, enough for three lab nodes
HUGEPAGES_MOUNT=/dev/hugepages

# Everything the build, the tests and the lab use (DESIGN §7, §8).
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  dpdk dpdk-dev libdpdk-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libpcap-dev libyaml-cpp-dev
  iproute2 iputils-ping netcat-openbsd socat tcpdump tshark
  python3 python3-scapy procps kmod
  libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev containernetworking-plugins
  python3-yaml openssl
  openvswitch-switch-dpdk  # the OVS-DPDK peer of perf/bench --peer ovs and its ovs_peer_check test
)

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "'$*' needs root (run this script as root)"
  fi
}

usage() {
  cat <<EOF
usage: scripts/setup.sh COMMAND

Commands:
  deps         install the Debian packages nodeplane needs (only those missing)
  hugepages    reserve $HUGEPAGES_WANTED x 2 MB hugepages, mount hugetlbfs at $HUGEPAGES_MOUNT
               (best effort: nodeplaned falls back to --no-huge without them)
  build        cmake -G Ninja (RelWithDebInfo) into $BUILD, then ninja
  test         deps, hugepages, build, then ctest; exits with ctest's status
  lab [ARGS]   deps, hugepages, build, then 'deploy/local/nodeplane-lab demo ARGS'
  help         this text

Runs from any directory; every command is safe to repeat.
EOF
}

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || printf '%s\n' "$pkg"
  done
}

cmd_deps() {
  step "deps: Debian packages"
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script supports Debian 12"
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    info "all ${#PACKAGES[@]} packages present"
    return 0
  fi
  info "missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer it up front so nothing prompts.
  echo "wireshark-common wireshark-common/install-setuid boolean false" |
    as_root debconf-set-selections 2>/dev/null || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null
  mapfile -t missing < <(missing_packages)
  [[ ${#missing[@]} -eq 0 ]] || die "still missing after install: ${missing[*]}"
  info "installed"
}

hugetlbfs_mounted() {
  awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts
}

cmd_hugepages() {
  step "hugepages: $HUGEPAGES_WANTED x 2 MB"
  local nr_file=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
  if [[ ! -e $nr_file ]]; then
    warn "this kernel has no 2 MB hugepages; nodeplaned will run with --no-huge"
    return 0
  fi
  local have
  have=$(<"$nr_file")
  if ((have < HUGEPAGES_WANTED)); then
    if ! echo "$HUGEPAGES_WANTED" | as_root tee "$nr_file" >/dev/null 2>&1; then
      warn "could not write $nr_file"
    fi
    have=$(<"$nr_file")
  fi
  if ((have < HUGEPAGES_WANTED)); then
    warn "only $have of $HUGEPAGES_WANTED hugepages reserved; nodeplaned falls back to --no-huge if it runs short"
  else
    info "$have reserved"
  fi
  if hugetlbfs_mounted; then
    info "hugetlbfs mounted"
  elif as_root mkdir -p "$HUGEPAGES_MOUNT" && as_root mount -t hugetlbfs nodev "$HUGEPAGES_MOUNT" 2>/dev/null; then
    info "hugetlbfs mounted at $HUGEPAGES_MOUNT"
  else
    warn "could not mount hugetlbfs at $HUGEPAGES_MOUNT; nodeplaned will run with --no-huge"
  fi
  return 0
}

cmd_build() {
  step "build: $BUILD"
  if [[ -f $BUILD/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD/CMakeCache.txt"; then
    die "$BUILD was configured with another generator; remove it and run again"
  fi
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  ninja -C "$BUILD"
}

cmd_test() {
  cmd_deps
  cmd_hugepages
  cmd_build
  step "test: ctest"
  # -j over the cores; end-to-end tests carry RUN_SERIAL, so ctest runs them one at a time.
  local jobs rc=0
  jobs=$(nproc 2>/dev/null || echo 2)
  ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -j "$jobs" || rc=$?
  return "$rc"
}

cmd_lab() {
  cmd_deps
  cmd_hugepages
  cmd_build
  step "lab: nodeplane-lab demo${*:+ $*}"
  NP_BUILD_DIR="$BUILD/bin" bash "$LAB" demo "$@"
}

main() {
  local cmd=${1:-help}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    deps) cmd_deps ;;
    hugepages) cmd_hugepages ;;
    build) cmd_build ;;
    test) cmd_test ;;
    lab) cmd_lab "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      die "unknown command '$cmd'"
      ;;
  esac
}

main "$@"
