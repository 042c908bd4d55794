#!/usr/bin/env bash
# The Kafka transport's tests against the newest aiokafka release, beside the pinned one in .venv: the newest wheel
# goes into .cache/aiokafka-latest, which shadows the venv's aiokafka on PYTHONPATH (one download, no second venv).
# A release that changed the internals the speed patches rely on fails test_kafka_patches/test_kafka_transport.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.cache/aiokafka-latest
rm -rf "$target"
.venv/bin/python -m pip install -q --upgrade --no-deps --target "$target" aiokafka
version="$(PYTHONPATH="$target" .venv/bin/python -c 'import aiokafka; print(aiokafka.__version__)')"
echo "Kafka transport tests against aiokafka $version"
PYTHONPATH="$target" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/unit/test_kafka_patches.py tests/unit/test_kafka_wire.py tests/unit/test_kafka_fetch.py \
  tests/unit/test_kafka_reader.py tests/integration/test_kafka_transport.py
