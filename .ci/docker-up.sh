#!/usr/bin/env bash
# Makes a Docker engine available on this machine, idempotently:
# installs docker.io when dockerd is missing, starts dockerd in the background
# (logs in ${DOCKERD_LOG:-/tmp/dockerd.log}) and waits up to ~60 s for `docker info`.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "docker-up: engine already running"
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

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker-up: engine ready"
    exit 0
  fi
  sleep 1
done

echo "docker-up: the Docker engine did not come up within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
