#!/usr/bin/env bash
# The one test command: installs what the tests need (Debian packages, Python packages, Kafka jars via mvn),
# then runs the whole suite, in the checkout's virtual environment (.venv). The servers are started by the tests themselves, on loopback, in temp dirs.
# Without arguments (CI) it then runs, whatever pytest said, so that no failure hides another:
#   the Kafka transport tests against the newest aiokafka release (scripts/test-aiokafka-latest.sh),
#   the quality gates: ruff check, ruff format --check, mypy (config in pyproject.toml).
# The exit code is non-zero if any of them failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
code=$?
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests" >&2
fi
if [ "$#" -eq 0 ]; then
  failed=()
  bash scripts/test-aiokafka-latest.sh || failed+=("newest aiokafka")
  .venv/bin/ruff check . || failed+=("ruff check")
  .venv/bin/ruff format --check . || failed+=("ruff format --check")
  .venv/bin/mypy || failed+=("mypy")
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "failed after pytest: ${failed[*]}" >&2
    [ "$code" -eq 0 ] && code=1
  fi
fi
exit "$code"
