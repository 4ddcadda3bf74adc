#!/usr/bin/env bash
# Builds the daemon image from the Dockerfile as a user would (`docker build .`), and prints its tag.
# No image registry is reachable here, so the Dockerfile's base (node:<24>-bookworm-slim) is made
# locally first: a debootstrap'ed Debian bookworm with the Node.js 24 binary from npm
# (.ci/node.sh), npm, the `node` user, and this machine's CA certificates (the package mirrors
# are reached through a TLS-inspecting egress here). Cached per machine by tag.
set -euo pipefail
cd "$(dirname "$0")/.."
major=24
base="mcp-router-ci/node:${major}-bookworm-slim-1"
tag="${MCP_ROUTER_IMAGE_TAG:-mcp-router:ci}"

if ! docker image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  nodebin="$(bash .ci/node.sh "$major")"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "daemon-image: debootstrap bookworm (minbase) for $base" >&2
  debootstrap --variant=minbase bookworm "$root" "${MCP_ROUTER_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  install -m 0755 "$nodebin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$(npm root -g)/npm" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  mkdir -p "$root/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    -c 'CMD ["node"]' - "$base" >/dev/null
  echo "daemon-image: base $base ready" >&2
fi

echo "daemon-image: docker build -t $tag (base $base)" >&2
DOCKER_BUILDKIT=0 docker build -q --build-arg "NODE_IMAGE=$base" -t "$tag" . >&2
echo "$tag"
