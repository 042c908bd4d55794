#!/usr/bin/env bash
# Installs miniconnect into the checkout's virtual environment (.venv) and runs Kafka's FileStream quick start
# on the embedded log: no Kafka, no JVM. A file source reads /tmp/miniconnect/test.txt into the topic
# connect-test; a file sink writes that topic to /tmp/miniconnect/test.sink.txt. The worker keeps running
# (REST API on :8083) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q -e .
mkdir -p /tmp/miniconnect
printf 'foo\nbar\nhello miniconnect\n' >> /tmp/miniconnect/test.txt
.venv/bin/miniconnect standalone config/connect-standalone.properties \
  config/quickstart/connect-file-source.properties config/quickstart/connect-file-sink.properties &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' EXIT INT TERM
# REST answering first (a sink file left by an earlier run is not a sign that this worker is up), then the lines
for _ in $(seq 1 50); do
  if curl -sf localhost:8083/ >/dev/null; then break; fi
  sleep 0.2
done
for _ in $(seq 1 50); do
  if [ -s /tmp/miniconnect/test.sink.txt ]; then break; fi
  sleep 0.2
done
echo "--- /tmp/miniconnect/test.sink.txt:"
cat /tmp/miniconnect/test.sink.txt || true
echo "--- connectors:"
curl -s localhost:8083/connectors?expand=status || true; echo
echo "--- append lines with: echo more >> /tmp/miniconnect/test.txt ; Ctrl-C stops the worker"
wait $pid
