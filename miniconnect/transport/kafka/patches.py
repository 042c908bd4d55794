"""Speed patches of aiokafka's internals (see fetch, reader, wire), installed by the Kafka clients' start().

Each patch checks that aiokafka's internals are the ones it was written against and otherwise leaves aiokafka as
shipped; that fallback is correct but slower, so it is logged as a warning naming the aiokafka version. The tested
aiokafka versions are pinned in pyproject.toml; scripts/test.sh also runs the Kafka transport tests against the
newest aiokafka release, so a change there shows up as a failed `installed` check rather than as a silent slowdown.
"""

from __future__ import annotations

import logging

import aiokafka
from aiokafka.protocol import produce

from . import fetch, reader, wire

log = logging.getLogger(__name__)

_attempted = False


def produce_encoder_installed() -> bool:
    return any(
        getattr(produce, f"ProduceRequest_v{v}", None) is not None
        and getattr(produce, f"ProduceRequest_v{v}").__dict__.get("encode") is wire.encode_produce_request
        for v in range(3, 9)
    )


def install() -> None:
    """Installs the patches once per process (later calls do nothing); warns about each one that falls back."""
    global _attempted
    if _attempted:
        return
    _attempted = True
    version = getattr(aiokafka, "__version__", "?")
    wire.install()
    if not produce_encoder_installed():
        log.warning(
            "aiokafka %s: no ProduceRequest v3-v8 has the schema the one-copy encoder knows (transport/kafka/wire.py); "
            "produce requests are encoded by aiokafka (slower)",
            version,
        )
    if not wire.install_send():
        log.warning(
            "aiokafka %s: its connection's send is not the one the produce framer expects (transport/kafka/wire.py); "
            "produce requests are copied twice more (slower)",
            version,
        )
    if not fetch.install():
        log.warning(
            "aiokafka %s: the fetcher internals the batch path needs are missing (transport/kafka/fetch.py); "
            "records are converted one by one (slower)",
            version,
        )
    if not reader.install():
        log.warning(
            "aiokafka %s: its connection protocol is not the one the chunked reader expects "
            "(transport/kafka/reader.py); responses are read by asyncio's StreamReader (slower)",
            version,
        )
