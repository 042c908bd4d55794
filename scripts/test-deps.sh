#!/usr/bin/env bash
# Installs what the integration tests need: PostgreSQL and MariaDB server binaries (Debian packages, services
# not left running), the Python package with its test extras, and an Apache Kafka broker resolved from Maven
# Central into a cache outside the repo. Idempotent and fast when everything is already there.
set -euo pipefail

KAFKA_VERSION="${MINICONNECT_KAFKA_VERSION:-4.1.1}"
CACHE_DIR="${MINICONNECT_CACHE_DIR:-$HOME/.cache/miniconnect}"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

log() { echo "[test-deps] $*"; }

# --- database servers (Debian packages) -----------------------------------------------------------------
need_pkgs=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
{ command -v mariadbd || [ -x /usr/sbin/mariadbd ]; } >/dev/null 2>&1 || need_pkgs+=(mariadb-server)
{ command -v mariadb-install-db || [ -x /usr/bin/mariadb-install-db ]; } >/dev/null 2>&1 \
  || [[ " ${need_pkgs[*]-} " == *" mariadb-server "* ]] || need_pkgs+=(mariadb-server)
command -v mvn >/dev/null 2>&1 || need_pkgs+=(maven)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_pkgs+=(python3-venv)
command -v java >/dev/null 2>&1 || need_pkgs+=(openjdk-17-jre-headless)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  # Keep the packages' init scripts from starting system-wide servers: the tests start their own.
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    policy_created=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}"
  if [ "$policy_created" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  # In case a service was started anyway (no policy-rc.d honoured), stop it.
  for svc in postgresql mariadb; do $SUDO service "$svc" stop >/dev/null 2>&1 || true; done
else
  log "database server packages present"
fi

# --- python package, in the checkout's own virtual environment ---------------------------------------------
# Never into the system interpreter: everything goes into .venv (made here if missing).
VENV="$REPO_DIR/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
# The tests must import this checkout, not an older copy installed by `pip install .` (e.g. the quick start).
installed="$(cd / && "$VENV/bin/python" -c 'import os, miniconnect_plugins, aiokafka, asyncpg, aiomysql, pytest, pytest_asyncio, pytest_timeout, httpx, hypothesis, ruff, mypy; print(os.path.dirname(os.path.dirname(os.path.abspath(miniconnect_plugins.__file__))))' 2>/dev/null || true)"
# A changed pyproject.toml (a new dependency pulled with the code) installs again: its hash is stamped in .venv.
stamp="$VENV/.miniconnect-pyproject.sha256"
want="$(sha256sum "$REPO_DIR/pyproject.toml" | cut -d' ' -f1)"
if [ "$installed" != "$REPO_DIR" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "pip install -e '.[test]' into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  "$VENV/bin/python" -m pip install -q -e "$REPO_DIR[test]"
  echo "$want" >"$stamp"
else
  log "python package (editable, this checkout) and test extras present in $VENV"
fi

# --- Apache Kafka's jars from Maven Central ----------------------------------------------------------------
# resolve_jars HOME ARTIFACT_ID GROUP:ARTIFACT...: the artifacts (at $KAFKA_VERSION) and their runtime dependencies,
# with slf4j and log4j2, copied into HOME/libs; HOME/.complete marks a finished resolution.
resolve_jars() {
  local home="$1" name="$2" deps="" ga
  shift 2
  for ga in "$@"; do
    deps="$deps<dependency><groupId>${ga%%:*}</groupId><artifactId>${ga#*:}</artifactId><version>$KAFKA_VERSION</version></dependency>"
  done
  mkdir -p "$home"
  rm -rf "$home/libs"
  cat >"$home/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>miniconnect.test</groupId>
  <artifactId>$name</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    $deps
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  (cd "$home" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=libs)
}

if [ -f "$KAFKA_HOME/.complete" ]; then
  log "kafka $KAFKA_VERSION present in $KAFKA_HOME"
else
  log "resolving kafka $KAFKA_VERSION from Maven Central into $KAFKA_HOME"
  resolve_jars "$KAFKA_HOME" kafka-broker org.apache.kafka:kafka_2.13 org.apache.kafka:kafka-storage
  cat >"$KAFKA_HOME/log4j2.properties" <<'L4J'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
L4J
  touch "$KAFKA_HOME/.complete"
  log "kafka $KAFKA_VERSION: $(ls "$KAFKA_HOME/libs" | wc -l) jars"
fi

# --- Apache Kafka Connect's own worker (the JVM reference the differential and mixed-cluster tests run) -------
CONNECT_HOME="$CACHE_DIR/connect-$KAFKA_VERSION"
if [ -f "$CONNECT_HOME/.complete" ]; then
  log "kafka connect $KAFKA_VERSION present in $CONNECT_HOME"
else
  log "resolving kafka connect $KAFKA_VERSION from Maven Central into $CONNECT_HOME"
  resolve_jars "$CONNECT_HOME" kafka-connect org.apache.kafka:connect-runtime org.apache.kafka:connect-file \
    org.apache.kafka:connect-json org.apache.kafka:connect-transforms
  touch "$CONNECT_HOME/.complete"
  log "kafka connect $KAFKA_VERSION: $(ls "$CONNECT_HOME/libs" | wc -l) jars"
fi
echo "$KAFKA_HOME"
