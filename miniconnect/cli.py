"""Commands: `standalone`, `distributed` and `topics`, like Kafka's connect-*.sh and console tools."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

from . import CONNECT_VERSION, SERVER_VERSION, __version__
from .errors import ConnectError, RetriableError

log = logging.getLogger("miniconnect")
STARTED = time.monotonic()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="miniconnect", description="A light asyncio Kafka Connect worker.")
    p.add_argument(
        "--version",
        action="version",
        version=f"miniconnect {__version__} (Kafka Connect {CONNECT_VERSION}; REST version {SERVER_VERSION})",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def worker_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("worker_properties", help="worker .properties file")
        sp.add_argument(
            "--override",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a worker property (repeatable)",
        )
        sp.add_argument("--log-level", default=os.environ.get("MINICONNECT_LOG_LEVEL", "INFO"))

    sa = sub.add_parser("standalone", help="run a standalone worker")
    worker_args(sa)
    sa.add_argument("connectors", nargs="*", help="connector .json or .properties files to create at start")
    da = sub.add_parser("distributed", help="run a distributed worker (needs Kafka)")
    worker_args(da)

    tp = sub.add_parser("topics", help="look inside and feed the worker's log (embedded or Kafka)")
    worker_args(tp)
    tsub = tp.add_subparsers(dest="action", required=True)
    tsub.add_parser("list", help="list topics")
    c = tsub.add_parser("consume", help="print records' values, one per line")
    c.add_argument("topic")
    c.add_argument("--from-beginning", action="store_true")
    c.add_argument("--max-messages", type=int)
    c.add_argument("--timeout-ms", type=int, help="stop after this long without a record")
    c.add_argument("--print-key", action="store_true")
    pr = tsub.add_parser("produce", help="send lines from stdin as records")
    pr.add_argument("topic")
    pr.add_argument("--key-separator", help="split each line into key and value at this separator")
    v = tsub.add_parser("verify", help="check every batch of the embedded log and report damage (changes nothing)")
    v.add_argument("topic", nargs="*")
    return p


def load_worker_config(path: str, overrides: Sequence[str], distributed: bool = False) -> Any:
    """WorkerConfig, or DistributedConfig (group.id and the storage topics required) for a distributed worker."""
    from .config.distributed_config import DistributedConfig
    from .config.properties import load_properties
    from .config.worker_config import WorkerConfig

    props = load_properties(path)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--override expects KEY=VALUE, got {item!r}")
        props[key.strip()] = value
    return DistributedConfig(props) if distributed else WorkerConfig(props)


def make_transport(config: Any) -> Any:
    """Kafka when `bootstrap.servers` is set, else the embedded log."""
    servers = config["bootstrap.servers"]
    if isinstance(servers, list):
        servers = ",".join(servers)
    if servers:
        from .transport.kafka import KafkaTransport

        # The worker's own security keys reach its admin client (as Connect's, which starts from the top-level
        # keys); task producers and consumers take only producer.* / consumer.* keys, as in Connect.
        security = {k: v for k, v in config.originals.items() if k.startswith(("security.", "sasl.", "ssl."))}
        return KafkaTransport(
            servers,
            config.with_prefix("producer."),
            config.with_prefix("consumer."),
            {**security, **config.with_prefix("admin.")},
        )
    from .transport.embedded import EmbeddedLog

    retention_bytes = config["embedded.log.retention.bytes"]
    retention_ms = config["embedded.log.retention.ms"]
    return EmbeddedLog(
        config["embedded.log.dir"],
        retention_bytes=retention_bytes if retention_bytes and retention_bytes > 0 else None,
        retention_ms=retention_ms if retention_ms and retention_ms > 0 else None,
        default_partitions=config["embedded.log.partitions"],
    )


def schema_registry(config: Any) -> Any:
    """The worker's Schema Registry when `schema.registry.listeners` names any, else None. It has its own
    client of the log (see schema_registry.server)."""
    listeners = config["schema.registry.listeners"]
    if not listeners:
        return None
    from .schema_registry.server import SchemaRegistryServer

    users_value = config["schema.registry.basic.auth.users"]
    users = dict(pair.split(":", 1) for pair in (users_value.value if users_value else "").split(",") if ":" in pair)
    originals = getattr(config, "originals", config)
    # https listeners: the `schema.registry.ssl.*` keys (Confluent's registry takes `ssl.*`), else the worker's
    ssl_props = {k[len("schema.registry.") :]: v for k, v in originals.items() if k.startswith("schema.registry.ssl.")}
    return SchemaRegistryServer(
        ",".join(listeners),
        lambda: make_transport(config),
        config["schema.registry.topic"],
        config["schema.registry.topic.replication.factor"],
        users,
        config["schema.registry.compatibility.level"].upper(),
        ssl_props or {k: v for k, v in originals.items() if k.startswith("ssl.")},
        config["schema.registry.leader.url"] or "",
        _registry_election(config),
    )


def _registry_election(config: Any) -> dict[str, Any] | None:
    """On Kafka, the group in which the registries elect their leader (schema_registry.election)."""
    servers = config["bootstrap.servers"]
    if not servers:
        return None
    from .config.distributed_config import internal_client_config

    return {
        "bootstrap_servers": ",".join(servers) if isinstance(servers, list) else servers,
        "client_config": internal_client_config(config),
        "group_id": config["schema.registry.group.id"],
        "session_timeout_ms": config["schema.registry.group.session.timeout.ms"],
        "heartbeat_interval_ms": config["schema.registry.group.heartbeat.interval.ms"],
        "rebalance_timeout_ms": config["schema.registry.group.rebalance.timeout.ms"],
        "host_name": config["schema.registry.host.name"],
        "leader_eligibility": config["schema.registry.leader.eligibility"],
        "sticky": config["schema.registry.leader.election.sticky"],
    }


async def run_standalone(config: Any, connector_files: Sequence[str]) -> int:
    from .config.properties import load_connector_file
    from .plugins import Plugins
    from .rest.server import RestServer
    from .runtime.standalone import StandaloneHerder
    from .runtime.worker import Worker
    from .storage.offsets import FileOffsetStore

    connectors = [load_connector_file(f) for f in connector_files]  # fail fast on a bad file
    plugins = Plugins(config)
    transport = make_transport(config)
    offsets = FileOffsetStore(config["offset.storage.file.filename"])
    worker = Worker(config, plugins, transport, offsets)
    herder = StandaloneHerder(config, worker, plugins, transport, offsets)
    rest = RestServer(herder, config)
    registry = schema_registry(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if not await _until_stopped(transport.start(), stop):
            log.info("Shutting down before Kafka answered")
            return 0
        if registry is not None:
            await registry.start()
        await offsets.start()
        await worker.start()
        await rest.start()
        await herder.start()
        log.info("Ready in %.2f s; REST API at %s", time.monotonic() - STARTED, rest.advertised_url)
        for name, cfg in connectors:
            try:
                await herder.put_connector_config(name, cfg, allow_replace=True)
            except Exception as e:
                log.error("Failed to create connector %s from the command line: %s", name, e)
        await stop.wait()
        log.info("Shutting down")
    finally:
        await _stop_all(*(p for p in (rest, herder, registry, offsets) if p is not None), transport)
    return 0


async def _until_stopped(coro: Any, stop: asyncio.Event) -> bool:
    """Runs `coro` unless a stop signal comes first (the transport may wait for an unreachable Kafka for as
    long as it takes): True when it finished, False when stopped."""
    work = asyncio.ensure_future(coro)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not work.done():
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        return False
    work.result()
    return True


async def _stop_all(*parts: Any) -> None:
    for part in parts:
        try:
            await part.stop()
        except Exception as e:
            log.error("Error while stopping %s: %s", type(part).__name__, e)


async def run_distributed(config: Any) -> int:
    """A worker of the Connect cluster named by group.id: configs, offsets and statuses in Kafka's topics."""
    servers = config["bootstrap.servers"]
    if not servers:
        log.error(
            "Distributed mode needs Kafka: set bootstrap.servers in the worker properties "
            "(or use `miniconnect standalone`, which runs on the embedded log)."
        )
        return 2
    from .plugins import Plugins
    from .rest.server import RestServer
    from .runtime.distributed_setup import build_distributed

    plugins = Plugins(config)
    transport = make_transport(config)
    # A distributed worker gives up on a cluster it cannot reach as Kafka's does: ConnectUtils.lookupKafkaClusterId
    # waits for the admin client's default.api.timeout.ms (60 s), then the worker exits.
    transport.startup_timeout_s = int(config.originals.get("default.api.timeout.ms", 60000)) / 1000
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    herder = rest = offsets = None
    registry = schema_registry(config)
    try:
        try:
            if not await _until_stopped(transport.start(), stop):
                log.info("Shutting down before Kafka answered")
                return 0
        except RetriableError as e:
            log.error(
                "Failed to connect to and describe Kafka cluster. Check worker's broker connection and security "
                "properties. (%s)",
                e,
            )
            return 1
        if registry is not None:
            await registry.start()
        herder, offsets = await build_distributed(config, plugins, transport)
        rest = RestServer(herder, config)
        await rest.start()
        await herder.start()
        log.info("Ready in %.2f s; REST API at %s", time.monotonic() - STARTED, rest.advertised_url)
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(herder.stopped.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        log.info("Shutting down")
    finally:
        await _stop_all(*(p for p in (rest, herder, registry, offsets) if p is not None), transport)
    return 1 if herder is not None and herder.fatal is not None else 0


async def run_topics(config: Any, args: argparse.Namespace) -> int:
    from . import topics

    if args.action == "verify":
        if config["bootstrap.servers"]:
            log.error(
                "`topics verify` checks the embedded log; this worker config names Kafka (bootstrap.servers), "
                "whose brokers check their own logs"
            )
            return 2
        try:
            return 0 if topics.verify(config["embedded.log.dir"], args.topic, sys.stdout) else 1
        except FileNotFoundError as e:
            log.error("%s", e)
            return 2
    transport = make_transport(config)
    await transport.start()
    try:
        if args.action == "list":
            for line in await topics.list_topics(transport):
                print(line)
        elif args.action == "consume":
            await topics.consume(
                transport,
                args.topic,
                args.from_beginning,
                sys.stdout,
                max_messages=args.max_messages,
                timeout_ms=args.timeout_ms,
                print_key=args.print_key,
            )
        else:
            n = await topics.produce(transport, args.topic, sys.stdin, key_separator=args.key_separator)
            print(f"Produced {n} records to {args.topic}", file=sys.stderr)
    finally:
        await transport.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from .logcontext import ENV_VAR, configure_logging

    log_format = os.environ.get(ENV_VAR, "").strip().lower()
    try:
        configure_logging(args.log_level, log_format or "text")
    except ValueError as e:
        sys.exit(f"{ENV_VAR}: {e}")
    try:
        config = load_worker_config(args.worker_properties, args.override, args.command == "distributed")
        if not log_format and config["log.format"] != "text":
            configure_logging(args.log_level, config["log.format"])
        if args.command == "standalone":
            code = asyncio.run(run_standalone(config, args.connectors))
        elif args.command == "distributed":
            code = asyncio.run(run_distributed(config))
        else:
            code = asyncio.run(run_topics(config, args))
    except KeyboardInterrupt:
        code = 130
    except (OSError, ValueError, ConnectError) as e:
        log.error("%s", e)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
