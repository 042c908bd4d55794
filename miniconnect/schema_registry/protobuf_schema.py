"""Protobuf schemas in the registry: parsed (.proto text, or a base64 FileDescriptorProto as Confluent's clients
register them) with their references, the canonical text that identifies a schema, the serialized form
(`?format=serialized`), and a subset of Confluent's Protobuf compatibility rules (its SchemaDiff), compared message
by message and field by field number:
- incompatible: the package changed, a message removed, a field's scalar type changed outside the groups that
  share a wire encoding (int32/uint32/int64/uint64/bool; sint32/sint64; fixed32/sfixed32; fixed64/sfixed64;
  string/bytes), a field's kind (scalar, enum, message) or message type changed, a numeric field turned repeated
  or singular, a proto2 required field added or removed, a field removed from a oneof, several existing fields
  moved into one oneof;
- compatible, as in Confluent's rules: fields added or removed, renamed or renumbered (a renumbered field is one
  removed and one added), messages and enums added, enum constants changed, oneofs added."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping

from google.protobuf import descriptor_pb2 as pb

from .errors import InvalidSchema
from .proto_text import ProtoSyntaxError, load, to_text

F = pb.FieldDescriptorProto
_GROUPS = [
    {F.TYPE_INT32, F.TYPE_UINT32, F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_BOOL},
    {F.TYPE_SINT32, F.TYPE_SINT64},
    {F.TYPE_FIXED32, F.TYPE_SFIXED32},
    {F.TYPE_FIXED64, F.TYPE_SFIXED64},
    {F.TYPE_STRING, F.TYPE_BYTES},
]


class ParsedProto:
    __slots__ = ("canonical", "file", "imports")

    def __init__(self, text: str, references: Mapping[str, str], fetch: Callable[[str], tuple[str, Mapping[str, str]]]):
        try:
            self.file, self.imports = load(text, references, fetch)
            self.canonical = to_text(self.file)
        except (ProtoSyntaxError, ValueError, KeyError) as e:
            raise InvalidSchema(f"Invalid schema {text}, details: {e}") from None

    def serialized(self) -> str:
        return base64.standard_b64encode(self.file.SerializeToString()).decode("ascii")


def _messages(fd: pb.FileDescriptorProto) -> dict[str, pb.DescriptorProto]:
    out: dict[str, pb.DescriptorProto] = {}

    def walk(scope: str, msgs: object) -> None:
        for m in msgs:  # type: ignore[attr-defined]
            full = f"{scope}.{m.name}" if scope else m.name
            out[full] = m
            walk(full, m.nested_type)

    walk("", fd.message_type)
    return out


def incompatibilities(reader: ParsedProto, writer: ParsedProto) -> list[str]:
    """Why data written with `writer` may not be read with `reader` (Confluent's SchemaDiff of original = writer,
    update = reader); [] when the rules here find nothing."""
    out: list[str] = []
    old, new = writer.file, reader.file
    if old.package != new.package:
        out.append(f"PACKAGE_CHANGED at '#/': {old.package!r} -> {new.package!r}")
    new_messages = _messages(new)
    for name, m in _messages(old).items():
        if m.options.map_entry:
            continue
        updated = new_messages.get(name)
        if updated is None:
            out.append(f"MESSAGE_REMOVED at '#/{name}'")
            continue
        _message(m, updated, f"#/{name}", old.syntax != "proto3", out)
    return out


def _message(old: pb.DescriptorProto, new: pb.DescriptorProto, path: str, proto2: bool, out: list[str]) -> None:
    olds = {f.number: f for f in old.field}
    news = {f.number: f for f in new.field}
    for number, f in olds.items():
        g = news.get(number)
        here = f"{path}/{number}"
        if g is None:
            if f.label == F.LABEL_REQUIRED:
                out.append(f"REQUIRED_FIELD_REMOVED at '{here}': {f.name}")
            if _real_oneof(f):
                out.append(f"ONEOF_FIELD_REMOVED at '{here}': {f.name}")
            continue
        _field(f, g, here, out)
        if _real_oneof(f) and not _real_oneof(g):
            pass  # ONEOF_FIELD_MOVED_TO_TOP_LEVEL: compatible
    for number, g in news.items():
        if number not in olds and g.label == F.LABEL_REQUIRED:
            out.append(f"REQUIRED_FIELD_ADDED at '{path}/{number}': {g.name}")
    for index, oneof in enumerate(new.oneof_decl):
        moved = [
            n for n, g in news.items() if g.HasField("oneof_index") and g.oneof_index == index and not g.proto3_optional
        ]
        moved_in = [n for n in moved if n in olds and not _real_oneof(olds[n])]
        if len(moved_in) > 1:
            out.append(f"MULTIPLE_FIELDS_MOVED_TO_ONEOF at '{path}/{oneof.name}': fields {moved_in}")


def _real_oneof(f: pb.FieldDescriptorProto) -> bool:
    return f.HasField("oneof_index") and not f.proto3_optional


def _field(f: pb.FieldDescriptorProto, g: pb.FieldDescriptorProto, here: str, out: list[str]) -> None:
    fkind, gkind = _kind(f), _kind(g)
    if fkind != gkind:
        out.append(f"FIELD_KIND_CHANGED at '{here}': {f.name} was a {fkind}, is a {gkind}")
        return
    if fkind == "scalar" and f.type != g.type and not any(f.type in s and g.type in s for s in _GROUPS):
        out.append(
            f"FIELD_SCALAR_KIND_CHANGED at '{here}': {f.name} was {F.Type.Name(f.type)}, is {F.Type.Name(g.type)}"
        )
    elif fkind != "scalar" and f.type_name != g.type_name:
        out.append(f"FIELD_NAMED_TYPE_CHANGED at '{here}': {f.name} was {f.type_name}, is {g.type_name}")
    if (f.label == F.LABEL_REPEATED) != (g.label == F.LABEL_REPEATED) and f.type not in (F.TYPE_STRING, F.TYPE_BYTES):
        if fkind != "message":
            out.append(f"FIELD_NUMERIC_LABEL_CHANGED at '{here}': {f.name} turned repeated or singular")
    if (f.label == F.LABEL_REQUIRED) != (g.label == F.LABEL_REQUIRED):
        kind = "REQUIRED_FIELD_ADDED" if g.label == F.LABEL_REQUIRED else "REQUIRED_FIELD_REMOVED"
        out.append(f"{kind} at '{here}': {f.name}")


def _kind(f: pb.FieldDescriptorProto) -> str:
    if f.type == F.TYPE_MESSAGE:
        return "message"
    if f.type == F.TYPE_ENUM:
        return "enum"
    return "scalar"
