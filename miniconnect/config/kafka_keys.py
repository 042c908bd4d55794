"""Key definitions read from Kafka 4.1.1's own classes rather than written out by hand (kafka_keys.json, written by
scripts/gen_kafka_keys.py): the ConfigDefs of the producer, consumer and admin clients, with which a connector's
client overrides are listed, and the worker keys Kafka defines that worker_config.py and distributed_config.py do
not write out (the clients' connection, SSL and SASL keys, mostly), so that a worker checks them as Kafka's does."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from .configdef import (
    NO_DEFAULT,
    ConfigDef,
    ConfigKey,
    ConfigType,
    Importance,
    Validator,
    Width,
    at_least,
    between,
    one_of,
    parse_type,
)


@functools.cache
def _data() -> dict[str, Any]:
    return json.loads((Path(__file__).parent / "kafka_keys.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@functools.cache
def client_config_def(client: str) -> ConfigDef:
    """Kafka's ConfigDef of the "producer", "consumer" or "admin" client (keys in its order)."""
    data = _data()
    return ConfigDef(key_from(data["definitions"][i]) for i in data["clients"][client])


def with_kafka_keys(config_def: ConfigDef, worker: str) -> ConfigDef:
    """config_def with the keys of Kafka's "standalone" or "distributed" worker config that it does not define."""
    data = _data()
    return config_def.merge(ConfigDef(key_from(data["definitions"][i]) for i in data["workers"][worker]))


def key_from(d: dict[str, Any]) -> ConfigKey:
    """A ConfigKey from its definition as tests/javaharness/ParseHarness dumps it."""
    type_ = ConfigType(d["type"])
    return ConfigKey(
        d["name"],
        type_,
        parse_type(d["name"], d["default"], type_) if "default" in d else NO_DEFAULT,
        _validator(d.get("validator"), type_),
        Importance(d["importance"]),
        d["documentation"],
        d["group"],
        d["order"],
        Width(d["width"]),
        d["display_name"],
        list(d["dependents"]),
    )


def _validator(spec: dict[str, Any] | None, type_: ConfigType) -> Validator | None:
    if spec is None:
        return None
    kind = spec["kind"]
    if kind == "Range":
        low, high = (parse_type("", spec[b], type_) if b in spec else None for b in ("min", "max"))
        if low is not None:
            return at_least(low) if high is None else between(low, high)
    elif kind in ("ValidString", "CaseInsensitiveValidString"):
        return one_of(*spec["values"], case_sensitive=kind == "ValidString", text=spec["text"])
    raise ValueError(f"no validator like Kafka's {kind} ({spec['text']})")
