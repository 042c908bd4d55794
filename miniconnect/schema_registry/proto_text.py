""".proto text <-> FileDescriptorProto (python `protobuf`'s descriptor_pb2), for the Protobuf converter and the
registry: a parser for proto2/proto3 files (messages, nested types, enums, oneofs, map fields, proto3 `optional`,
imports, `extend`, field options `default`, `json_name`, `packed`, `deprecated` and Confluent's
`(confluent.field_meta)`), type names resolved against the file and its imports; and a printer giving the canonical
text the registry stores. Services and other custom options are dropped. The well-known imports
(google/protobuf/*, google/type/date.proto and timeofday.proto, confluent/meta.proto, confluent/type/decimal.proto)
are built in, as Confluent's registry has them without references."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from google.protobuf import descriptor_pb2 as pb

FDP = pb.FileDescriptorProto
F = pb.FieldDescriptorProto
META_FIELD = 1088  # confluent.field_meta's extension number on google.protobuf.FieldOptions


class ProtoSyntaxError(ValueError):
    pass


_SCALARS = {
    "double": F.TYPE_DOUBLE,
    "float": F.TYPE_FLOAT,
    "int64": F.TYPE_INT64,
    "uint64": F.TYPE_UINT64,
    "int32": F.TYPE_INT32,
    "fixed64": F.TYPE_FIXED64,
    "fixed32": F.TYPE_FIXED32,
    "bool": F.TYPE_BOOL,
    "string": F.TYPE_STRING,
    "bytes": F.TYPE_BYTES,
    "uint32": F.TYPE_UINT32,
    "sfixed32": F.TYPE_SFIXED32,
    "sfixed64": F.TYPE_SFIXED64,
    "sint32": F.TYPE_SINT32,
    "sint64": F.TYPE_SINT64,
}
SCALAR_NAMES = {v: k for k, v in _SCALARS.items()}
_TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/|(?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)\b)"""
    r"""|(?P<id>\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(?P<sym>[{}\[\]()<>;=,:/.-])""",
    re.S,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(s: str) -> str:
    body = s[1:-1]
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = body[i + 1]
        if n in _ESCAPES:
            out += _ESCAPES[n].encode()
            i += 2
        elif n in "xX":
            m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
            out.append(int(m.group(), 16))  # type: ignore[union-attr]
            i += 2 + len(m.group())  # type: ignore[union-attr]
        elif n.isdigit():
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            out.append(int(m.group(), 8) & 0xFF)  # type: ignore[union-attr]
            i += 1 + len(m.group())  # type: ignore[union-attr]
        else:
            out += n.encode()
            i += 2
    return out.decode("utf-8", "surrogateescape")


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ProtoSyntaxError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind is not None:
            out.append((kind, m.group()))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.toks[j][1] if j < len(self.toks) else ""

    def next(self) -> str:
        if self.i >= len(self.toks):
            raise ProtoSyntaxError("unexpected end of the schema")
        self.i += 1
        return self.toks[self.i - 1][1]

    def kind(self) -> str:
        return self.toks[self.i][0] if self.i < len(self.toks) else ""

    def expect(self, value: str) -> None:
        got = self.next()
        if got != value:
            raise ProtoSyntaxError(f"expected {value!r}, found {got!r} (token {self.i})")

    def accept(self, value: str) -> bool:
        if self.peek() == value:
            self.i += 1
            return True
        return False

    def name(self) -> str:
        if self.kind() != "id":
            raise ProtoSyntaxError(f"expected a name, found {self.peek()!r} (token {self.i + 1})")
        return self.next()

    def string(self) -> str:
        parts = []
        while self.kind() == "str":
            parts.append(_unquote(self.next()))
        if not parts:
            raise ProtoSyntaxError(f"expected a string, found {self.peek()!r}")
        return "".join(parts)

    def int(self) -> int:
        t = self.next()
        try:
            return int(t, 0)
        except ValueError:
            raise ProtoSyntaxError(f"expected an integer, found {t!r}") from None

    def constant(self) -> Any:
        k = self.kind()
        if k == "str":
            return self.string()
        if k == "sym" and self.peek() == "{":
            return self.aggregate()
        if self.peek() == "-" and self.i + 1 < len(self.toks):  # -inf
            self.next()
            return "-" + self.next()
        return self.next()

    def aggregate(self) -> dict[str, Any]:
        """A text-format message value `{ key: value ... }`: repeated keys and `[...]` lists become lists."""
        self.expect("{")
        out: dict[str, Any] = {}
        while not self.accept("}"):
            key = self.name()
            self.accept(":")
            if self.accept("["):
                values = []
                while not self.accept("]"):
                    values.append(self.constant())
                    self.accept(",")
                out.setdefault(key, []).extend(values)
            else:
                value = self.constant()
                if key in out:
                    out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
                else:
                    out[key] = value
            if not self.accept(","):
                self.accept(";")
        return out

    def option_name(self) -> str:
        if self.accept("("):
            inner = self.name()
            self.expect(")")
            name = f"({inner.lstrip('.')})"
        else:
            name = self.name()
        while self.kind() == "id" and self.peek().startswith("."):  # (ext).sub
            name += self.next()
        return name

    def skip_block(self) -> None:
        depth = 0
        while True:
            t = self.next()
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if depth == 0:
                    return
            elif t == ";" and depth == 0:
                return


def parse(text: str, name: str = "default") -> pb.FileDescriptorProto:
    """The file's descriptor with type names as written (call resolve() to make them absolute)."""
    p = _Parser(text)
    fd = FDP(name=name)
    syntax = "proto2"
    while p.i < len(p.toks):
        t = p.next()
        if t == ";":
            continue
        if t == "syntax":
            p.expect("=")
            syntax = p.string()
            p.expect(";")
            if syntax not in ("proto2", "proto3"):
                raise ProtoSyntaxError(f"unsupported syntax {syntax!r}")
            if syntax == "proto3":
                fd.syntax = "proto3"
        elif t == "edition":
            raise ProtoSyntaxError("protobuf editions are not supported")
        elif t == "package":
            fd.package = p.name()
            p.expect(";")
        elif t == "import":
            public = p.accept("public")
            weak = p.accept("weak")
            if public:
                fd.public_dependency.append(len(fd.dependency))
            if weak:
                fd.weak_dependency.append(len(fd.dependency))
            fd.dependency.append(p.string())
            p.expect(";")
        elif t == "option":
            _file_option(fd.options, p)
        elif t == "message":
            _message(p, fd.message_type.add(), syntax)
        elif t == "enum":
            _enum(p, fd.enum_type.add())
        elif t == "extend":
            _extend(p, fd.extension, syntax)
        elif t == "service":
            p.name()
            p.skip_block()
        else:
            raise ProtoSyntaxError(f"unexpected {t!r} at the top level")
    if not fd.HasField("options") or not fd.options.ListFields():
        fd.ClearField("options")
    return fd


def _file_option(options: Any, p: _Parser) -> None:
    name = p.option_name()
    p.expect("=")
    value = p.constant()
    p.expect(";")
    _set_option(options, name, value)


def _set_option(options: Any, name: str, value: Any) -> None:
    """A plain option of the options message (java_package = "..."); custom options other than confluent's field
    meta are dropped."""
    if name.startswith("("):
        if name == "(confluent.field_meta)" and isinstance(value, dict):
            options.MergeFromString(_meta_bytes(value))
        elif name.startswith("(confluent.field_meta)."):
            options.MergeFromString(_meta_bytes({name.split(".", 2)[-1]: value}))
        return
    fd = options.DESCRIPTOR.fields_by_name.get(name)
    if fd is None or fd.message_type is not None:
        return
    if fd.type == F.TYPE_BOOL:
        value = value in ("true", True)
    elif fd.type == F.TYPE_ENUM:
        value = fd.enum_type.values_by_name[value].number if value in fd.enum_type.values_by_name else None
    elif fd.type != F.TYPE_STRING:
        value = int(value, 0)
    if value is not None:
        setattr(options, name, value)


def _message(p: _Parser, msg: pb.DescriptorProto, syntax: str) -> None:
    msg.name = p.name()
    p.expect("{")
    synthetic: list[pb.FieldDescriptorProto] = []
    while not p.accept("}"):
        t = p.peek()
        if t == ";":
            p.next()
        elif t == "message":
            p.next()
            _message(p, msg.nested_type.add(), syntax)
        elif t == "enum":
            p.next()
            _enum(p, msg.enum_type.add())
        elif t == "oneof":
            p.next()
            index = len(msg.oneof_decl)
            msg.oneof_decl.add(name=p.name())
            p.expect("{")
            while not p.accept("}"):
                if p.accept("option"):
                    p.option_name()
                    p.expect("=")
                    p.constant()
                    p.expect(";")
                    continue
                if p.accept(";"):
                    continue
                _field(p, msg, syntax, oneof=index)
        elif t == "option":
            p.next()
            _file_option(msg.options, p)
            if not msg.options.ListFields():
                msg.ClearField("options")
        elif t in ("reserved", "extensions"):
            p.next()
            _reserved(p, msg, t)
        elif t == "extend":
            p.next()
            _extend(p, msg.extension, syntax)
        else:
            f = _field(p, msg, syntax)
            if f is not None and f.proto3_optional:
                synthetic.append(f)
    for f in synthetic:  # proto3 `optional`: a synthetic oneof each, after the real ones (as protoc orders them)
        name = "_" + f.name
        while any(o.name == name for o in msg.oneof_decl):
            name = "X" + name
        f.oneof_index = len(msg.oneof_decl)
        msg.oneof_decl.add(name=name)


def _reserved(p: _Parser, msg: pb.DescriptorProto, what: str) -> None:
    while not p.accept(";"):
        if p.kind() == "str":
            msg.reserved_name.append(p.string())
        else:
            start = p.int()
            end = start
            if p.accept("to"):
                end = 536870911 if p.accept("max") else p.int()
            if what == "reserved":
                msg.reserved_range.add(start=start, end=end + 1)
            else:
                msg.extension_range.add(start=start, end=end + 1)
        p.accept(",")
        if p.peek() == "[":
            p.skip_block()  # extension range options


def _field(p: _Parser, msg: Any, syntax: str, oneof: int | None = None) -> pb.FieldDescriptorProto | None:
    label = None
    if p.peek() in ("optional", "required", "repeated") and p.kind() == "id" and p.toks[p.i + 1][0] == "id":
        label = p.next()
    elif p.peek() == "map" and p.peek(1) == "<":
        return _map_field(p, msg, syntax)
    if p.peek() == "group":
        raise ProtoSyntaxError("proto2 groups are not supported")
    type_name = p.name()
    f = msg.field.add() if isinstance(msg, pb.DescriptorProto) else msg.add()
    f.name = p.name()
    p.expect("=")
    f.number = p.int()
    f.label = {"required": F.LABEL_REQUIRED, "repeated": F.LABEL_REPEATED}.get(label or "", F.LABEL_OPTIONAL)
    if type_name in _SCALARS:
        f.type = _SCALARS[type_name]
    else:
        f.type_name = type_name  # resolved (message or enum) later
    if oneof is not None:
        f.oneof_index = oneof
    elif label == "optional" and syntax == "proto3":
        f.proto3_optional = True
    if p.accept("["):
        while True:
            name = p.option_name()
            p.expect("=")
            value = p.constant()
            if name == "default":
                f.default_value = value if isinstance(value, str) else str(value)
            elif name == "json_name":
                f.json_name = value
            else:
                _set_option(f.options, name, value)
            if p.accept("]"):
                break
            p.expect(",")
        if f.HasField("options") and not f.options.ListFields() and not f.options.SerializeToString():
            f.ClearField("options")
    p.expect(";")
    return f


def _map_field(p: _Parser, msg: pb.DescriptorProto, syntax: str) -> pb.FieldDescriptorProto:
    p.expect("map")
    p.expect("<")
    key = p.name()
    p.expect(",")
    value = p.name()
    p.expect(">")
    name = p.name()
    p.expect("=")
    number = p.int()
    entry = msg.nested_type.add(name=map_entry_name(name))
    entry.options.map_entry = True
    for i, (fname, t) in enumerate((("key", key), ("value", value)), 1):
        ef = entry.field.add(name=fname, number=i, label=F.LABEL_OPTIONAL)
        if t in _SCALARS:
            ef.type = _SCALARS[t]
        else:
            ef.type_name = t
    f = msg.field.add(name=name, number=number, label=F.LABEL_REPEATED, type_name=entry.name)
    if p.accept("["):
        while not p.accept("]"):
            p.next()
    p.expect(";")
    return f


def map_entry_name(field: str) -> str:
    """protoc's name for a map field's entry message: the field name in CamelCase + Entry."""
    parts = field.split("_")
    return "".join(s[:1].upper() + s[1:] for s in parts if s) + "Entry"


def _enum(p: _Parser, enum: pb.EnumDescriptorProto) -> None:
    enum.name = p.name()
    p.expect("{")
    while not p.accept("}"):
        t = p.peek()
        if t == ";":
            p.next()
        elif t == "option":
            p.next()
            _file_option(enum.options, p)
            if not enum.options.ListFields():
                enum.ClearField("options")
        elif t == "reserved":
            p.next()
            while not p.accept(";"):
                if p.kind() == "str":
                    enum.reserved_name.append(p.string())
                else:
                    start = p.int()
                    end = start
                    if p.accept("to"):
                        end = 2147483647 if p.accept("max") else p.int()
                    enum.reserved_range.add(start=start, end=end)
                p.accept(",")
        else:
            v = enum.value.add(name=p.name())
            p.expect("=")
            v.number = p.int()
            if p.accept("["):
                while not p.accept("]"):
                    p.next()
            p.expect(";")


def _extend(p: _Parser, into: Any, syntax: str) -> None:
    extendee = p.name()
    p.expect("{")
    while not p.accept("}"):
        if p.accept(";"):
            continue
        f = _field(p, into, syntax)
        if f is not None:
            f.extendee = extendee


# -- confluent.Meta (doc = 1, params = 2 (map<string, string>), tags = 3) in FieldOptions' extension 1088 ----------
def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _meta_bytes(meta: Mapping[str, Any]) -> bytes:
    body = b""
    if "doc" in meta:
        body += _len_field(1, str(meta["doc"]).encode())
    params = meta.get("params") or []
    for entry in params if isinstance(params, list) else [params]:
        body += _len_field(2, _len_field(1, str(entry["key"]).encode()) + _len_field(2, str(entry["value"]).encode()))
    tags = meta.get("tags") or []
    for tag in tags if isinstance(tags, list) else [tags]:
        body += _len_field(3, str(tag).encode())
    return _len_field(META_FIELD, body)


def meta_option(params: Mapping[str, str]) -> pb.FieldOptions:
    """FieldOptions carrying `(confluent.field_meta) = { params: [...] }`."""
    options = pb.FieldOptions()
    options.MergeFromString(_meta_bytes({"params": [{"key": k, "value": v} for k, v in params.items()]}))
    return options


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(number, wire type, value) of a serialized message: varints as ints, length-delimited as bytes."""
    i, n = 0, len(data)
    value: Any
    while i < n:
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            size, i = read_varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def field_meta(options: pb.FieldOptions) -> dict[str, Any]:
    """{"doc": str, "params": {k: v}, "tags": [...]} of a field's confluent.field_meta ({} when it has none)."""
    out: dict[str, Any] = {}
    for number, _, value in _fields(options.SerializeToString()):
        if number != META_FIELD:
            continue
        for n, _, v in _fields(value):
            if n == 1:
                out["doc"] = v.decode()
            elif n == 2:
                kv = {k: x.decode() for k, _, x in _fields(v)}
                out.setdefault("params", {})[kv.get(1, "")] = kv.get(2, "")
            elif n == 3:
                out.setdefault("tags", []).append(v.decode())
    return out


# -- names ------------------------------------------------------------------------------------------------------
def _declared(fd: pb.FileDescriptorProto) -> dict[str, str]:
    """Full name (with a leading dot) -> "message" or "enum" for every type the file declares."""
    out: dict[str, str] = {}
    prefix = "." + fd.package if fd.package else ""
    parts = fd.package.split(".") if fd.package else []
    for i in range(1, len(parts) + 1):
        out["." + ".".join(parts[:i])] = "package"

    def walk(scope: str, msgs: Any, enums: Any) -> None:
        for e in enums:
            out[f"{scope}.{e.name}"] = "enum"
        for m in msgs:
            out[f"{scope}.{m.name}"] = "message"
            walk(f"{scope}.{m.name}", m.nested_type, m.enum_type)

    walk(prefix, fd.message_type, fd.enum_type)
    return out


def resolve(fd: pb.FileDescriptorProto, imports: Mapping[str, pb.FileDescriptorProto]) -> None:
    """Make every type name of `fd` absolute (".pkg.Msg") and set message/enum types, looking in the file and in
    the files it imports (`imports`: name -> descriptor, already resolved), as protoc scopes names."""
    known = _declared(fd)
    for dep in _visible(fd, imports):
        known.update(_declared(dep))

    def lookup(name: str, scope: str) -> str:
        if name.startswith("."):
            if known.get(name, "package") != "package":
                return name
            raise ProtoSyntaxError(f"unknown type {name}")
        first, _, rest = name.partition(".")
        s = scope
        while True:
            candidate = f"{s}.{first}"
            if candidate in known:
                full = f"{candidate}.{rest}" if rest else candidate
                if known.get(full, "package") != "package":
                    return full
            if not s:
                break
            s = s.rsplit(".", 1)[0] if "." in s else ""
        raise ProtoSyntaxError(f"unknown type {name} (used in {scope.lstrip('.') or 'the file'})")

    def fix(f: pb.FieldDescriptorProto, scope: str) -> None:
        if f.type_name and not f.HasField("type"):
            full = lookup(f.type_name, scope)
            f.type_name = full
            f.type = F.TYPE_MESSAGE if known[full] == "message" else F.TYPE_ENUM
        if f.extendee and not f.extendee.startswith("."):
            f.extendee = lookup(f.extendee, scope)

    def walk(scope: str, msgs: Any) -> None:
        for m in msgs:
            inner = f"{scope}.{m.name}"
            for f in list(m.field) + list(m.extension):
                fix(f, inner)
            walk(inner, m.nested_type)

    top = "." + fd.package if fd.package else ""
    for f in fd.extension:
        fix(f, top)
    walk(top, fd.message_type)


def _visible(fd: pb.FileDescriptorProto, imports: Mapping[str, pb.FileDescriptorProto]) -> list[pb.FileDescriptorProto]:
    out = []
    seen: set[str] = set()

    def add(name: str) -> None:
        dep = imports.get(name)
        if dep is None:
            raise ProtoSyntaxError(f"import {name!r} is neither a well-known file nor a reference")
        if name in seen:
            return
        seen.add(name)
        out.append(dep)
        for i in dep.public_dependency:
            add(dep.dependency[i])

    for name in fd.dependency:
        add(name)
    return out


# -- printing -----------------------------------------------------------------------------------------------------
def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_text(fd: pb.FileDescriptorProto) -> str:
    """The canonical .proto text of a descriptor (what the registry stores and parses back to the same)."""
    out: list[str] = [f'syntax = "{fd.syntax or "proto2"}";']
    if fd.package:
        out.append(f"package {fd.package};")
    if fd.dependency:
        out.append("")
        for i, d in enumerate(fd.dependency):
            kind = "public " if i in fd.public_dependency else "weak " if i in fd.weak_dependency else ""
            out.append(f"import {kind}{_quote(d)};")
    options = _options(fd.options) if fd.HasField("options") else []
    if options:
        out.append("")
        out += [f"option {o};" for o in options]
    scope = "." + fd.package if fd.package else ""
    proto3 = fd.syntax == "proto3"
    for m in fd.message_type:
        out.append("")
        _print_message(m, scope, "", out, proto3)
    for e in fd.enum_type:
        out.append("")
        _print_enum(e, "", out)
    for ext in _group_extensions(fd.extension):
        out.append("")
        out.append(f"extend {ext[0].extendee.lstrip('.')} {{")
        for f in ext:
            out.append("  " + _field_text(f, scope, None, proto3))
        out.append("}")
    return "\n".join(out) + "\n"


def _group_extensions(fields: Any) -> list[list[pb.FieldDescriptorProto]]:
    groups: dict[str, list[pb.FieldDescriptorProto]] = {}
    for f in fields:
        groups.setdefault(f.extendee, []).append(f)
    return list(groups.values())


def _options(options: Any) -> list[str]:
    out = []
    for fdesc, value in options.ListFields():
        # FieldDescriptor.label is gone in protobuf 7 (is_repeated replaces it)
        repeated = fdesc.is_repeated if hasattr(fdesc, "is_repeated") else fdesc.label == F.LABEL_REPEATED
        if fdesc.message_type is not None or repeated:
            continue
        if fdesc.type == F.TYPE_STRING:
            out.append(f"{fdesc.name} = {_quote(value)}")
        elif fdesc.type == F.TYPE_BOOL:
            out.append(f"{fdesc.name} = {'true' if value else 'false'}")
        elif fdesc.type == F.TYPE_ENUM:
            out.append(f"{fdesc.name} = {fdesc.enum_type.values_by_number[value].name}")
        else:
            out.append(f"{fdesc.name} = {value}")
    return out


def _print_message(m: pb.DescriptorProto, scope: str, indent: str, out: list[str], proto3: bool) -> None:
    inner = f"{scope}.{m.name}"
    entries = {f"{inner}.{n.name}": n for n in m.nested_type if n.options.map_entry}
    out.append(f"{indent}message {m.name} {{")
    body = indent + "  "
    for o in _options(m.options) if m.HasField("options") else []:
        if not o.startswith("map_entry"):
            out.append(f"{body}option {o};")
    printed_oneofs: set[int] = set()
    for f in m.field:
        real_oneof = f.HasField("oneof_index") and not f.proto3_optional
        if real_oneof:
            if f.oneof_index in printed_oneofs:
                continue
            printed_oneofs.add(f.oneof_index)
            out.append(f"{body}oneof {m.oneof_decl[f.oneof_index].name} {{")
            for g in m.field:
                if g.HasField("oneof_index") and g.oneof_index == f.oneof_index and not g.proto3_optional:
                    out.append(f"{body}  {_field_text(g, inner, entries, proto3, in_oneof=True)}")
            out.append(f"{body}}}")
        else:
            out.append(body + _field_text(f, inner, entries, proto3))
    for n in m.nested_type:
        if not n.options.map_entry:
            _print_message(n, inner, body, out, proto3)
    for e in m.enum_type:
        _print_enum(e, body, out)
    for r in m.reserved_range:
        out.append(f"{body}reserved {r.start}" + (f" to {r.end - 1};" if r.end - 1 > r.start else ";"))
    if m.reserved_name:
        out.append(f"{body}reserved {', '.join(_quote(n) for n in m.reserved_name)};")
    for r in m.extension_range:
        out.append(f"{body}extensions {r.start} to {'max' if r.end >= 536870912 else r.end - 1};")
    for ext in _group_extensions(m.extension):
        out.append(f"{body}extend {ext[0].extendee.lstrip('.')} {{")
        for f in ext:
            out.append(f"{body}  {_field_text(f, inner, None, proto3)}")
        out.append(f"{body}}}")
    out.append(f"{indent}}}")


def _print_enum(e: pb.EnumDescriptorProto, indent: str, out: list[str]) -> None:
    out.append(f"{indent}enum {e.name} {{")
    for o in _options(e.options) if e.HasField("options") else []:
        out.append(f"{indent}  option {o};")
    for v in e.value:
        out.append(f"{indent}  {v.name} = {v.number};")
    for r in e.reserved_range:
        out.append(f"{indent}  reserved {r.start}" + (f" to {r.end};" if r.end > r.start else ";"))
    if e.reserved_name:
        out.append(f"{indent}  reserved {', '.join(_quote(n) for n in e.reserved_name)};")
    out.append(f"{indent}}}")


def _type_text(f: pb.FieldDescriptorProto, scope: str) -> str:
    # fully qualified (a leading dot): never ambiguous, whatever the nesting
    return SCALAR_NAMES[f.type] if f.type in SCALAR_NAMES else f.type_name


def _field_text(
    f: pb.FieldDescriptorProto,
    scope: str,
    entries: Mapping[str, pb.DescriptorProto] | None,
    proto3: bool,
    in_oneof: bool = False,
) -> str:
    entry = entries.get(f.type_name) if entries is not None and f.label == F.LABEL_REPEATED else None
    if entry is not None:
        k, v = entry.field[0], entry.field[1]
        text = f"map<{_type_text(k, scope)}, {_type_text(v, scope)}> {f.name} = {f.number}"
    else:
        label = ""
        if f.label == F.LABEL_REPEATED:
            label = "repeated "
        elif f.label == F.LABEL_REQUIRED:
            label = "required "
        elif not in_oneof and (f.proto3_optional or not proto3):
            label = "optional "
        text = f"{label}{_type_text(f, scope)} {f.name} = {f.number}"
    opts = []
    if f.HasField("default_value"):
        dv = f.default_value
        opts.append(f"default = {_quote(dv) if f.type in (F.TYPE_STRING, F.TYPE_BYTES) else dv}")
    if f.HasField("json_name") and f.json_name != _default_json_name(f.name):
        opts.append(f"json_name = {_quote(f.json_name)}")
    if f.HasField("options"):
        opts += _options(f.options)
        meta = field_meta(f.options)
        if meta:
            opts.append(f"(confluent.field_meta) = {_meta_text(meta)}")
    return text + (f" [{', '.join(opts)}]" if opts else "") + ";"


def _meta_text(meta: Mapping[str, Any]) -> str:
    parts = []
    if "doc" in meta:
        parts.append(f"doc: {_quote(meta['doc'])}")
    if meta.get("params"):
        # Sorted: params is a map<string, string>, and once a module registers confluent.field_meta in protobuf's
        # pool (confluent_kafka's meta_pb2 does), FieldOptions hold it as a map serialized in an order that varies
        # between processes and parses: the canonical text of one schema changed, and a registry lookup of a
        # schema by its own registered text said 40403 (decimals: precision and scale)
        entries = ", ".join(f"{{ key: {_quote(k)}, value: {_quote(v)} }}" for k, v in sorted(meta["params"].items()))
        parts.append(f"params: [{entries}]")
    if meta.get("tags"):
        parts.append(f"tags: [{', '.join(_quote(t) for t in meta['tags'])}]")
    return "{ " + ", ".join(parts) + " }"


def _default_json_name(name: str) -> str:
    out = []
    upper = False
    for c in name:
        if c == "_":
            upper = True
        elif upper:
            out.append(c.upper())
            upper = False
        else:
            out.append(c)
    return "".join(out)


# -- well-known files -------------------------------------------------------------------------------------------
_TEXTS = {
    "google/type/date.proto": 'syntax = "proto3"; package google.type; option java_package = "com.google.type"; '
    "message Date { int32 year = 1; int32 month = 2; int32 day = 3; }",
    "google/type/timeofday.proto": 'syntax = "proto3"; package google.type; option java_package = "com.google.type"; '
    "message TimeOfDay { int32 hours = 1; int32 minutes = 2; int32 seconds = 3; int32 nanos = 4; }",
    "confluent/type/decimal.proto": 'syntax = "proto3"; package confluent.type; '
    'option java_package = "io.confluent.protobuf.type"; option java_multiple_files = true; '
    "message Decimal { bytes value = 1; uint32 precision = 2; int32 scale = 3; }",
    "confluent/meta.proto": 'syntax = "proto3"; package confluent; import "google/protobuf/descriptor.proto"; '
    'option java_package = "io.confluent.protobuf"; '
    "message Meta { string doc = 1; map<string, string> params = 2; repeated string tags = 3; } "
    "extend google.protobuf.FileOptions { Meta file_meta = 1088; } "
    "extend google.protobuf.MessageOptions { Meta message_meta = 1088; } "
    "extend google.protobuf.FieldOptions { Meta field_meta = 1088; } "
    "extend google.protobuf.EnumOptions { Meta enum_meta = 1088; } "
    "extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }",
}
_GOOGLE = (
    "any",
    "api",
    "descriptor",
    "duration",
    "empty",
    "field_mask",
    "source_context",
    "struct",
    "timestamp",
    "type",
    "wrappers",
)
_WELL_KNOWN: dict[str, pb.FileDescriptorProto] = {}


def well_known(name: str) -> pb.FileDescriptorProto | None:
    """The descriptor of a file every registry knows without a reference, or None."""
    if not _WELL_KNOWN:
        import importlib

        for short in _GOOGLE:
            module = importlib.import_module(f"google.protobuf.{short}_pb2")
            fd = FDP()
            module.DESCRIPTOR.CopyToProto(fd)
            _WELL_KNOWN[fd.name] = fd
        for file_name in ("google/type/date.proto", "google/type/timeofday.proto", "confluent/type/decimal.proto"):
            _WELL_KNOWN[file_name] = _parsed(file_name)
        _WELL_KNOWN["confluent/meta.proto"] = _parsed("confluent/meta.proto")
    return _WELL_KNOWN.get(name)


def _parsed(name: str) -> pb.FileDescriptorProto:
    fd = parse(_TEXTS[name], name)
    resolve(fd, {d: _WELL_KNOWN[d] for d in fd.dependency})
    return fd


def load(
    text: str,
    references: Mapping[str, str],
    fetch: Callable[[str], tuple[str, Mapping[str, str]]] | None = None,
) -> tuple[pb.FileDescriptorProto, dict[str, pb.FileDescriptorProto]]:
    """A schema (.proto text, or base64 of a serialized FileDescriptorProto as Confluent's clients register) and
    every file it imports, resolved: (file, {import name: file}). references: import name -> a key that `fetch`
    turns into that file's (text, its own references)."""
    files: dict[str, pb.FileDescriptorProto] = {}

    def build(text: str, refs: Mapping[str, str], name: str, depth: int) -> pb.FileDescriptorProto:
        if depth > 32:
            raise ProtoSyntaxError("references nest too deeply (a cycle?)")
        fd = from_text_or_serialized(text, name)
        for dep in fd.dependency:
            if dep in files:
                continue
            known = well_known(dep) if dep.startswith(("google/", "confluent/")) else None
            if known is not None and dep not in refs:
                add_well_known(dep, files)
            elif dep in refs and fetch is not None:
                dep_text, dep_refs = fetch(refs[dep])
                files[dep] = build(dep_text, dep_refs, dep, depth + 1)
            else:
                raise ProtoSyntaxError(f"import {dep!r} is neither a well-known file nor a reference")
        resolve(fd, files)
        return fd

    main = build(text, references, "default", 0)
    return main, files


def add_well_known(name: str, files: dict[str, pb.FileDescriptorProto]) -> None:
    fd = well_known(name)
    assert fd is not None
    for dep in fd.dependency:
        if dep not in files:
            add_well_known(dep, files)
    files[name] = fd


_B64 = re.compile(r"^[A-Za-z0-9+/\s]+=*\s*$")


def from_text_or_serialized(text: str, name: str = "default") -> pb.FileDescriptorProto:
    """.proto text, or the base64 of a serialized FileDescriptorProto (Confluent's Python and Go clients register
    schemas so)."""
    stripped = text.strip()
    if stripped and _B64.match(stripped):
        import base64
        import binascii

        try:
            fd = FDP.FromString(base64.b64decode(stripped, validate=False))
        except (binascii.Error, ValueError) as e:
            raise ProtoSyntaxError(f"not a .proto text nor a base64 FileDescriptorProto: {e}") from None
        fd.name = name
        return fd
    fd = parse(text, name)
    return fd
