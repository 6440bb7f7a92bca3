#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian 12 machine:
# Debian packages (browser, software Vulkan, PostgreSQL, PyTorch for the model recipe's CPU test,
# zbarimg to decode the stores' QR codes), the npm test peers (wrangler among them), and the Go tools the tests run
# (Pebble).
# Idempotent: each step is skipped when its result is already present.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_pkgs=()
for p in chromium mesa-vulkan-drivers libvulkan1 postgresql python3-jinja2 python3-torch wamerican zbar-tools; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "test-deps: installing Debian packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# wrangler (Cloudflare's local runtime for the edge Worker's tests) is 3.x: 4.x needs Node >= 22.12.
# Its platform binaries (workerd, esbuild) are optional dependencies, which --omit=optional drops,
# so package.json names the linux-x64 ones itself.
# Also after package.json changed (a peer's version raised): npm records each install in node_modules/.package-lock.json.
if [ ! -d deploy/testpeers/node_modules/node-llama-cpp ] || [ ! -d deploy/testpeers/node_modules/@wllama/wllama ] ||
   [ deploy/testpeers/package.json -nt deploy/testpeers/node_modules/.package-lock.json ] ||
   [ ! -x deploy/testpeers/node_modules/.bin/wrangler ] || [ ! -d deploy/testpeers/node_modules/@cloudflare/workerd-linux-64 ]; then
  echo "test-deps: installing npm test peers"
  (cd deploy/testpeers && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund --loglevel=error >/dev/null)
fi
# Pebble (ACME test CA) is a go tool of the module: build it once, ahead of the tests.
go tool -n pebble >/dev/null
echo "test-deps: ready"
