#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian packages, Python packages, Kafka jars via mvn),
# then runs the whole suite, in the checkout's virtual environment (.venv). The servers are started by the tests themselves, on loopback, in temp dirs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests" >&2
fi
exit "$code"
