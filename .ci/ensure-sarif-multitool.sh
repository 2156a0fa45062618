#!/usr/bin/env bash
# Make Microsoft's SARIF Multitool (`sarif-multitool validate`) available for the SARIF
# tests: npm ships it with the Linux binary inside. Pinned, like every other tool.
set -euo pipefail
VERSION=5.7.0
if command -v sarif-multitool >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found; installing nodejs and npm with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
echo "sarif-multitool not found; installing @microsoft/sarif-multitool@$VERSION with npm" >&2
# A global prefix the user cannot write to (a system Node) needs root.
npm install -g --no-fund --no-audit "@microsoft/sarif-multitool@$VERSION" >/dev/null \
  || $SUDO npm install -g --no-fund --no-audit "@microsoft/sarif-multitool@$VERSION" >/dev/null
sarif-multitool --version | head -1
