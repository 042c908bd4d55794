"""Kafka Connect's group sub-protocols on the wire: worker metadata and assignments, byte for byte as Kafka's
ConnectProtocol (v0, `default`) and IncrementalCooperativeConnectProtocol (v1 `compatible`, v2 `sessioned`)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import Enum

from ..runtime.states import TaskId
from .java_order import hash_set_copy_order

CONNECT_PROTOCOL_V0, CONNECT_PROTOCOL_V1, CONNECT_PROTOCOL_V2 = 0, 1, 2
CONNECTOR_TASK = -1  # the task number that stands for the connector itself in an assignment
NO_ERROR, CONFIG_MISMATCH = 0, 1


class ConnectProtocolCompatibility(Enum):
    """`connect.protocol`: the config value, the JoinGroup protocol name and the protocol version."""

    EAGER = ("eager", "default", CONNECT_PROTOCOL_V0)
    COMPATIBLE = ("compatible", "compatible", CONNECT_PROTOCOL_V1)
    SESSIONED = ("sessioned", "sessioned", CONNECT_PROTOCOL_V2)

    def __init__(self, config_name: str, protocol: str, version: int):
        self.config_name, self.protocol, self.version = config_name, protocol, version

    @classmethod
    def from_config(cls, name: str) -> ConnectProtocolCompatibility:
        for c in cls:
            if c.config_name == name.strip().lower():
                return c
        raise ValueError(f"Unknown Connect protocol compatibility mode: {name}")

    @classmethod
    def from_protocol(cls, protocol: str) -> ConnectProtocolCompatibility:
        for c in cls:
            if c.protocol == protocol:
                return c
        raise ValueError(f"Not found Connect protocol compatibility mode for protocol: {protocol}")


@dataclass(slots=True)
class ExtendedAssignment:
    """What the leader hands a worker (Kafka's Assignment / ExtendedAssignment; v0 has no revocations or delay)."""

    version: int
    error: int
    leader: str | None
    leader_url: str | None
    offset: int
    connectors: list[str] = field(default_factory=list)
    tasks: list[TaskId] = field(default_factory=list)
    revoked_connectors: list[str] = field(default_factory=list)
    revoked_tasks: list[TaskId] = field(default_factory=list)
    delay: int = 0

    def failed(self) -> bool:
        return self.error != NO_ERROR


Assignment = ExtendedAssignment


@dataclass(slots=True)
class ExtendedWorkerState:
    """A member's JoinGroup metadata: its REST URL, config offset and (v1/v2) its current assignment."""

    url: str
    offset: int
    assignment: ExtendedAssignment | None = None


WorkerState = ExtendedWorkerState


# --- Kafka's protocol types ---------------------------------------------------------------------------------

_I16, _I32, _I64 = struct.Struct(">h"), struct.Struct(">i"), struct.Struct(">q")


def _string(s: str) -> bytes:
    if s is None:
        raise ValueError("Missing value for a non-nullable STRING field")
    b = s.encode("utf-8")
    return _I16.pack(len(b)) + b


def _array(items: list[bytes] | None) -> bytes:
    return _I32.pack(-1) if items is None else _I32.pack(len(items)) + b"".join(items)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = memoryview(data), 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, s: struct.Struct) -> int:
        if self.remaining() < s.size:
            raise ValueError("Error reading Connect protocol data: not enough bytes")
        (v,) = s.unpack_from(self.data, self.pos)
        self.pos += s.size
        return v

    def i16(self) -> int:
        return self._take(_I16)

    def i32(self) -> int:
        return self._take(_I32)

    def i64(self) -> int:
        return self._take(_I64)

    def raw(self, n: int) -> bytes:
        if n < 0 or self.remaining() < n:
            raise ValueError("Error reading Connect protocol data: not enough bytes")
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b

    def string(self) -> str:
        n = self.i16()
        if n < 0:
            raise ValueError("Error reading Connect protocol data: STRING field is null")
        return self.raw(n).decode("utf-8")

    def nullable_bytes(self) -> bytes | None:
        n = self.i32()
        return None if n < 0 else self.raw(n)

    def array(self, read_one) -> list | None:
        n = self.i32()
        return None if n < 0 else [read_one() for _ in range(n)]


def _as_map(connectors: list[str], tasks: list[TaskId], connectors_hashed: bool) -> dict[str, list[int]]:
    """connector -> task numbers (-1: the connector), grouped as Kafka groups them: Assignment.asMap walks
    `new HashSet<>(connectorIds)` (so Java's hash order), ExtendedAssignment.revokedAsMap the distinct list."""
    out: dict[str, list[int]] = {}
    for c in hash_set_copy_order(connectors) if connectors_hashed else dict.fromkeys(connectors):
        out.setdefault(c, []).append(CONNECTOR_TASK)
    for t in tasks:
        out.setdefault(t.connector, []).append(t.task)
    return out


def _connector_assignments(m: dict[str, list[int]]) -> list[bytes]:
    return [_string(c) + _array([_I32.pack(t) for t in ts]) for c, ts in m.items()]


def _read_connector_assignment(r: _Reader) -> tuple[str, list[int]]:
    return r.string(), r.array(r.i32) or []


def _split(entries: list[tuple[str, list[int]]] | None) -> tuple[list[str], list[TaskId]]:
    connectors: list[str] = []
    tasks: list[TaskId] = []
    for connector, ids in entries or []:
        for t in ids:
            if t == CONNECTOR_TASK:
                connectors.append(connector)
            else:
                tasks.append(TaskId(connector, t))
    return connectors, tasks


# --- ConnectProtocol (v0) ------------------------------------------------------------------------------------


def serialize_metadata_v0(state: ExtendedWorkerState) -> bytes:
    return _I16.pack(CONNECT_PROTOCOL_V0) + _string(state.url) + _I64.pack(state.offset)


def serialize_assignment_v0(a: ExtendedAssignment) -> bytes:
    body = (
        _I16.pack(a.error)
        + _string(a.leader)
        + _string(a.leader_url)
        + _I64.pack(a.offset)
        + _array(_connector_assignments(_as_map(a.connectors, a.tasks, True)))
    )
    return _I16.pack(CONNECT_PROTOCOL_V0) + body


# --- IncrementalCooperativeConnectProtocol (v1, v2) ----------------------------------------------------------


def serialize_assignment(a: ExtendedAssignment | None, sessioned: bool) -> bytes | None:
    """ASSIGNMENT_V1 under a v1/v2 header; None (a null allocation) for no assignment."""
    if a is None:
        return None
    revoked = _as_map(a.revoked_connectors, a.revoked_tasks, False)
    body = (
        _I16.pack(a.error)
        + _string(a.leader)
        + _string(a.leader_url)
        + _I64.pack(a.offset)
        + _array(_connector_assignments(_as_map(a.connectors, a.tasks, True)))
        + _array(_connector_assignments(revoked))
        + _I32.pack(a.delay)
    )
    return _I16.pack(CONNECT_PROTOCOL_V2 if sessioned else CONNECT_PROTOCOL_V1) + body


def serialize_metadata(state: ExtendedWorkerState, sessioned: bool) -> bytes:
    allocation = serialize_assignment(state.assignment, sessioned)
    return (
        _I16.pack(CONNECT_PROTOCOL_V2 if sessioned else CONNECT_PROTOCOL_V1)
        + _string(state.url)
        + _I64.pack(state.offset)
        + (_I32.pack(-1) if allocation is None else _I32.pack(len(allocation)) + allocation)
    )


def _version(r: _Reader) -> int:
    version = r.i16()
    if version < CONNECT_PROTOCOL_V0:
        raise ValueError(f"Unsupported subscription version: {version}")
    return version


def deserialize_metadata(data: bytes) -> ExtendedWorkerState:
    """Any version's metadata (v0 has no allocation: read as none, as Kafka's tolerant schema does)."""
    r = _Reader(data)
    _version(r)
    url, offset = r.string(), r.i64()
    allocation = r.nullable_bytes() if r.remaining() else None
    return ExtendedWorkerState(url, offset, deserialize_assignment(allocation))


def deserialize_assignment(data: bytes | None) -> ExtendedAssignment | None:
    """Any version's assignment; fields a v0 peer does not send take Kafka's defaults (no revocations, delay 0)."""
    if data is None:
        return None
    r = _Reader(data)
    version = _version(r)
    error, leader, leader_url, offset = r.i16(), r.string(), r.string(), r.i64()
    assigned = r.array(lambda: _read_connector_assignment(r)) if r.remaining() else None
    revoked = r.array(lambda: _read_connector_assignment(r)) if r.remaining() else None
    delay = r.i32() if r.remaining() else 0
    connectors, tasks = _split(assigned)
    revoked_connectors, revoked_tasks = _split(revoked)
    return ExtendedAssignment(
        version, error, leader, leader_url, offset, connectors, tasks, revoked_connectors, revoked_tasks, delay
    )


def metadata_request(
    state: ExtendedWorkerState, compatibility: ConnectProtocolCompatibility
) -> list[tuple[str, bytes]]:
    """The JoinGroup protocols a worker offers, most preferred first (WorkerCoordinator.metadata)."""
    eager = (ConnectProtocolCompatibility.EAGER.protocol, serialize_metadata_v0(state))
    if compatibility is ConnectProtocolCompatibility.EAGER:
        return [eager]
    out = [(ConnectProtocolCompatibility.COMPATIBLE.protocol, serialize_metadata(state, False)), eager]
    if compatibility is ConnectProtocolCompatibility.SESSIONED:
        out.insert(0, (ConnectProtocolCompatibility.SESSIONED.protocol, serialize_metadata(state, True)))
    return out
