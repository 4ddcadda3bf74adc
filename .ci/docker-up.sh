#!/usr/bin/env bash
# Makes a Docker engine available on this machine, idempotently: installs docker.io when dockerd
# is missing, starts dockerd in the background (logs in ${DOCKERD_LOG:-/tmp/dockerd.log}) and
# waits up to ~90 s until it is fully ready: the API answers, containers can be listed, and the
# default bridge network exists with an IPv4 subnet (on the very first start of a new engine the
# API can answer before its networks are set up).
set -euo pipefail

ready() {
  docker info >/dev/null 2>&1 &&
    docker ps -q >/dev/null 2>&1 &&
    docker network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null | grep -Eq '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/'
}

if ready; then
  echo "docker-up: engine ready"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-up: installing docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

log="${DOCKERD_LOG:-/tmp/dockerd.log}"
if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker-up: starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
fi

for i in $(seq 1 90); do
  if ready; then
    echo "docker-up: engine ready after ${i} s"
    exit 0
  fi
  sleep 1
done

echo "docker-up: the Docker engine was not ready within 90 s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
