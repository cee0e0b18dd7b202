#!/usr/bin/env bash
# Creates the project's Python virtual environment (.venv) holding the AWS emulator (moto) and the
# CloudFormation linter (cfn-lint). Safe to re-run: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 (>= 3.10) is required: apt-get install -y python3 python3-venv" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv || { echo "python3 -m venv failed: apt-get install -y python3-venv" >&2; exit 1; }
fi
if ! .venv/bin/python -c 'import moto, cfnlint' >/dev/null 2>&1; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
fi
