"""Connect schemas <-> Protobuf descriptors as Confluent's ProtobufData maps them (read as the specification): a
struct is a proto3 message (fields numbered in order, or by their `io.confluent.connect.protobuf.Tag`), nested
structs and maps are nested messages (maps as repeated `<Name>Entry` messages with key = 1 and value = 2), int8 and
int16 are int32 with `connect.type` in the field's `confluent.field_meta`, Decimal is `confluent.type.Decimal`
(precision and scale in the field meta), Date `google.type.Date`, Time `google.type.TimeOfDay`, Timestamp
`google.protobuf.Timestamp`, a primitive at the root a `google.protobuf.*Value` wrapper, unions (oneofs) structs
named `io.confluent.connect.protobuf.Union.<oneof>`, enums strings with their symbols in the parameters.
Nullable fields: plain proto3 fields by default (a null primitive is read back as the type's default, as with
Confluent), proto3 `optional` with `optional.for.nullables`, wrapper messages with `wrapper.for.nullables`.
`scrub.invalid.names` makes Connect names valid Protobuf names (scrub_name); `flatten.unions` reads a oneof's members
as fields of the message itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2 as pb

from ..data.schema import DATE, DECIMAL, SCALE_FIELD, TIME, TIMESTAMP, DataError, Field, Schema, Type
from ..schema_registry import proto_text

F = pb.FieldDescriptorProto
NAMESPACE = "io.confluent.connect.protobuf"
TAG = f"{NAMESPACE}.Tag"
PROTO_TYPE = f"{NAMESPACE}.Type"
ENUM = f"{NAMESPACE}.Enum"
UNION = f"{NAMESPACE}.Union"
GENERALIZED_ENUM = "org.apache.kafka.connect.data.Enum"  # ConnectEnum / ConnectUnion.LOGICAL_PARAMETER:
GENERALIZED_UNION = "org.apache.kafka.connect.data.Union"  # the names with generalized.sum.type.support
WRAPPER_MARK = f"{NAMESPACE}.Wrapper"
CONNECT_TYPE = "connect.type"
PRECISION = "connect.decimal.precision"
DEFAULT_NAME = "ConnectDefault"
DECIMAL_TYPE = ".confluent.type.Decimal"
DATE_TYPE = ".google.type.Date"
TIME_TYPE = ".google.type.TimeOfDay"
TIMESTAMP_TYPE = ".google.protobuf.Timestamp"
_LOGICAL_FILES = {
    DECIMAL: (DECIMAL_TYPE, "confluent/type/decimal.proto"),
    DATE: (DATE_TYPE, "google/type/date.proto"),
    TIME: (TIME_TYPE, "google/type/timeofday.proto"),
    TIMESTAMP: (TIMESTAMP_TYPE, "google/protobuf/timestamp.proto"),
}
WRAPPERS_FILE = "google/protobuf/wrappers.proto"
_WRAPPERS = {
    Type.INT8: "Int32Value",
    Type.INT16: "Int32Value",
    Type.INT32: "Int32Value",
    Type.INT64: "Int64Value",
    Type.FLOAT32: "FloatValue",
    Type.FLOAT64: "DoubleValue",
    Type.BOOLEAN: "BoolValue",
    Type.STRING: "StringValue",
    Type.BYTES: "BytesValue",
}
UNWRAPPED = {
    ".google.protobuf.DoubleValue": Type.FLOAT64,
    ".google.protobuf.FloatValue": Type.FLOAT32,
    ".google.protobuf.Int64Value": Type.INT64,
    ".google.protobuf.UInt64Value": Type.INT64,
    ".google.protobuf.Int32Value": Type.INT32,
    ".google.protobuf.UInt32Value": Type.INT64,
    ".google.protobuf.BoolValue": Type.BOOLEAN,
    ".google.protobuf.StringValue": Type.STRING,
    ".google.protobuf.BytesValue": Type.BYTES,
}
_SCALAR_TO_CONNECT = {
    F.TYPE_INT32: Type.INT32,
    F.TYPE_SINT32: Type.INT32,
    F.TYPE_SFIXED32: Type.INT32,
    F.TYPE_UINT32: Type.INT64,
    F.TYPE_FIXED32: Type.INT64,
    F.TYPE_INT64: Type.INT64,
    F.TYPE_UINT64: Type.INT64,
    F.TYPE_SINT64: Type.INT64,
    F.TYPE_FIXED64: Type.INT64,
    F.TYPE_SFIXED64: Type.INT64,
    F.TYPE_FLOAT: Type.FLOAT32,
    F.TYPE_DOUBLE: Type.FLOAT64,
    F.TYPE_BOOL: Type.BOOLEAN,
    F.TYPE_STRING: Type.STRING,
    F.TYPE_BYTES: Type.BYTES,
}
_CONNECT_TO_SCALAR = {
    Type.INT8: F.TYPE_INT32,
    Type.INT16: F.TYPE_INT32,
    Type.INT32: F.TYPE_INT32,
    Type.INT64: F.TYPE_INT64,
    Type.FLOAT32: F.TYPE_FLOAT,
    Type.FLOAT64: F.TYPE_DOUBLE,
    Type.BOOLEAN: F.TYPE_BOOL,
    Type.STRING: F.TYPE_STRING,
    Type.BYTES: F.TYPE_BYTES,
}
_SCALAR_BY_NAME = {v: k for k, v in proto_text.SCALAR_NAMES.items()}


@dataclass(frozen=True)
class ProtobufDataConfig:
    """The ProtobufDataConfig keys supported (Confluent's defaults)."""

    optional_for_nullables: bool = False
    wrapper_for_nullables: bool = False
    wrapper_for_raw_primitives: bool = True
    generate_index_for_unions: bool = True
    enhanced_schema_support: bool = False
    int_for_enums: bool = False
    scrub_invalid_names: bool = False
    optional_for_proto2: bool = True
    generate_struct_for_nulls: bool = False
    flatten_unions: bool = False
    ignore_default_for_nullables: bool = False
    generalized_sum_type_support: bool = False

    def scrub(self, name: str) -> str:
        return scrub_name(name) if self.scrub_invalid_names else name

    @property
    def enum_key(self) -> str:
        """The parameter that names an enum, and (with a dot) prefixes its symbols' numbers."""
        return GENERALIZED_ENUM if self.generalized_sum_type_support else ENUM

    def enum_symbols(self, schema: Schema) -> dict[str, int]:
        prefix = self.enum_key + "."
        return {k[len(prefix) :]: int(v) for k, v in (schema.parameters or {}).items() if k.startswith(prefix)}


def is_union(schema: Schema) -> bool:
    """A Connect struct that stands for a oneof (ProtobufData.isUnionSchema)."""
    return schema.type is Type.STRUCT and (
        (schema.name or "").startswith(UNION) or GENERALIZED_UNION in (schema.parameters or {})
    )


def is_enum(schema: Schema) -> bool:
    params = schema.parameters or {}
    return schema.type in (Type.STRING, Type.INT32) and (ENUM in params or GENERALIZED_ENUM in params)


_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_URL_SAFE = _NAME_CHARS | frozenset(".-*")


def scrub_name(name: str) -> str:
    """ProtobufData.doScrubName: a name that is not [A-Za-z][A-Za-z0-9_]* is URL-encoded as Java's URLEncoder does
    (UTF-8, space as '+'), prefixed with 'x' if it then starts with a digit or '_', and every character left that is
    not a letter, digit or '_' replaced by '_'."""
    if not name or (_NAME_CHARS.issuperset(name) and not "0" <= name[0] <= "9" and name[0] != "_"):
        return name
    parts = []
    for ch in name:
        if ch in _URL_SAFE:
            parts.append(ch)
        elif ch == " ":
            parts.append("+")
        else:
            parts.extend(f"%{b:02X}" for b in ch.encode("utf-8", "replace"))
    encoded = "".join(parts)
    if "0" <= encoded[0] <= "9" or encoded[0] == "_":
        encoded = "x" + encoded
    return "".join(ch if ch in _NAME_CHARS else "_" for ch in encoded)


@dataclass
class ProtoSchema:
    """A registered (or to be registered) Protobuf schema: its file, the files it imports, and the message used."""

    file: pb.FileDescriptorProto
    imports: dict[str, pb.FileDescriptorProto]
    message: str  # full name with a leading dot
    indexes: list[int]


# -- Connect -> Protobuf ----------------------------------------------------------------------------------------
def from_connect_schema(schema: Schema, config: ProtobufDataConfig) -> ProtoSchema:
    """ProtobufData.fromConnectSchema."""
    if schema.type is not Type.STRUCT:
        wrapper = _WRAPPERS.get(schema.type)
        if wrapper is None or schema.name in _LOGICAL_FILES:
            raise DataError(f"Unsupported root schema of type {schema.type.value}")
        fd = proto_text.well_known(WRAPPERS_FILE)
        assert fd is not None
        index = [m.name for m in fd.message_type].index(wrapper)
        return ProtoSchema(fd, {}, f".google.protobuf.{wrapper}", [index])
    builder = _FromConnect(config)
    package, _, name = ".".join(map(config.scrub, builder.name_or_default(schema.name).split("."))).rpartition(".")
    fd = pb.FileDescriptorProto(name="default", syntax="proto3")
    if package:
        fd.package = package
    scope = "." + package if package else ""
    fd.message_type.append(builder.message(name, schema, scope))
    fd.dependency.extend(builder.deps)
    imports: dict[str, pb.FileDescriptorProto] = {}
    for dep in builder.deps:
        proto_text.add_well_known(dep, imports)
    return ProtoSchema(fd, imports, f"{scope}.{name}", [0])


class _FromConnect:
    def __init__(self, config: ProtobufDataConfig):
        self.config = config
        self.count = 0
        self.deps: list[str] = []

    def name_or_default(self, name: str | None) -> str:
        if name:
            return name
        self.count += 1
        return f"{DEFAULT_NAME}{self.count}"

    def unqualified(self, name: str | None) -> str:
        return self.config.scrub(self.name_or_default(name).rsplit(".", 1)[-1])

    def dep(self, file_name: str) -> None:
        if file_name not in self.deps:
            self.deps.append(file_name)

    def message(self, name: str, schema: Schema, scope: str) -> pb.DescriptorProto:
        m = pb.DescriptorProto(name=name)
        inner = f"{scope}.{name}"
        children: set[str] = set()
        number = 1
        optionals: list[pb.FieldDescriptorProto] = []
        for field in schema.fields:
            tag = (field.schema.parameters or {}).get(TAG)
            if tag is not None:
                n = int(tag)
            else:
                n, number = number, number + 1
            f = self.field(m, inner, field.schema, self.config.scrub(field.name), n, False, children)
            if f is not None and f.proto3_optional:
                optionals.append(f)
        for f in optionals:
            f.oneof_index = len(m.oneof_decl)
            m.oneof_decl.add(name="_" + f.name)
        return m

    def field(
        self,
        m: pb.DescriptorProto,
        inner: str,
        schema: Schema,
        name: str,
        number: int,
        oneof_member: bool,
        children: set[str],
    ) -> pb.FieldDescriptorProto | None:
        repeated = schema.type in (Type.ARRAY, Type.MAP)
        optional = not repeated and self.config.optional_for_nullables and schema.optional and not oneof_member
        elem = schema.value_schema if schema.type is Type.ARRAY else schema
        assert elem is not None
        params: dict[str, str] = {}
        f = pb.FieldDescriptorProto(name=name, number=number)
        f.label = F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL
        if optional:
            f.proto3_optional = True
        wrap = self.config.wrapper_for_nullables and elem.optional and elem.type is not Type.STRUCT
        wrap = wrap and (not oneof_member or (elem.parameters or {}).get(WRAPPER_MARK) == "true")
        params_in = elem.parameters or {}
        if elem.name in _LOGICAL_FILES:
            type_name, file_name = _LOGICAL_FILES[elem.name]
            if elem.name == DECIMAL:
                if PRECISION in params_in:
                    params["precision"] = params_in[PRECISION]
                if SCALE_FIELD in params_in:
                    params["scale"] = params_in[SCALE_FIELD]
            self.dep(file_name)
            f.type, f.type_name = F.TYPE_MESSAGE, type_name
        elif elem.type is Type.STRUCT:
            if is_union(elem):
                generalized = (elem.parameters or {}).get(GENERALIZED_UNION)
                if self.config.generalized_sum_type_support and generalized:
                    oneof_name = generalized
                else:
                    oneof_name = self.unqualified((elem.name or "")[len(UNION) + 1 :])
                index = len(m.oneof_decl)
                m.oneof_decl.add(name=oneof_name)
                for member in elem.fields:
                    tag = (member.schema.parameters or {}).get(TAG)
                    number = int(tag) if tag else 0
                    g = self.field(m, inner, member.schema, self.config.scrub(member.name), number, True, children)
                    if g is not None:
                        g.oneof_index = index
                return None
            type_ = self.unqualified(elem.name)
            if type_ == name:
                type_ += "Message"
            if type_ == m.name:
                f.type_name = inner
            else:
                if type_ not in children:
                    children.add(type_)
                    m.nested_type.append(self.message(type_, elem, inner))
                f.type_name = f"{inner}.{type_}"
            f.type = F.TYPE_MESSAGE
        elif elem.type is Type.MAP:
            entry = proto_text_map_entry(self.unqualified(elem.name))
            e = m.nested_type.add(name=entry)
            assert elem.key_schema is not None and elem.value_schema is not None
            for i, (fname, s) in enumerate((("key", elem.key_schema), ("value", elem.value_schema)), 1):
                g = self.field(e, f"{inner}.{entry}", s, fname, i, False, set())
                assert g is not None
            f.type, f.type_name = F.TYPE_MESSAGE, f"{inner}.{entry}"
        elif is_enum(elem):
            enum_name = self.unqualified(elem.name)
            if not any(e.name == enum_name for e in m.enum_type):
                e = m.enum_type.add(name=enum_name)
                for symbol, number in self.config.enum_symbols(elem).items():
                    e.value.add(name=symbol, number=number)
            f.type, f.type_name = F.TYPE_ENUM, f"{inner}.{enum_name}"
        elif wrap:
            wrapper = _WRAPPERS[elem.type]
            if elem.type is Type.INT64 and params_in.get(PROTO_TYPE) in ("uint32", "fixed32"):
                wrapper = "UInt32Value"
            elif elem.type is Type.INT64 and params_in.get(PROTO_TYPE) in ("uint64", "fixed64"):
                wrapper = "UInt64Value"
            if elem.type in (Type.INT8, Type.INT16):
                params[CONNECT_TYPE] = elem.type.value
            self.dep(WRAPPERS_FILE)
            f.type, f.type_name = F.TYPE_MESSAGE, f".google.protobuf.{wrapper}"
        else:
            scalar = _CONNECT_TO_SCALAR.get(elem.type)
            if scalar is None:
                raise DataError(f"Unknown schema type: {elem.type.value}")
            if elem.type in (Type.INT8, Type.INT16):
                params[CONNECT_TYPE] = elem.type.value
            elif elem.type in (Type.INT32, Type.INT64) and params_in.get(PROTO_TYPE) in _SCALAR_BY_NAME:
                scalar = _SCALAR_BY_NAME[params_in[PROTO_TYPE]]
            f.type = scalar
        if params:
            f.options.CopyFrom(proto_text.meta_option(params))
            self.dep("confluent/meta.proto")
        m.field.append(f)
        return m.field[-1]


def proto_text_map_entry(name: str) -> str:
    """ProtobufSchema.toMapEntry: lower_underscore names to UpperCamel, then Entry."""
    if "_" in name:
        name = "".join(p[:1].upper() + p[1:].lower() for p in name.split("_"))
    return name + "Entry"


def _map_field_name(entry: str) -> str:
    """ProtobufSchema.toMapField: the entry name without Entry, UpperCamel to lower_underscore."""
    if not entry.endswith("Entry"):
        return entry
    base = entry[: -len("Entry")]
    out = []
    for i, c in enumerate(base):
        if c.isupper() and i > 0:
            out.append("_")
        out.append(c.lower())
    return "".join(out)


# -- Protobuf -> Connect ----------------------------------------------------------------------------------------
class Types:
    """Every message and enum of a schema's files by full name (leading dot), with its file's syntax."""

    def __init__(self, schema: ProtoSchema):
        self.messages: dict[str, pb.DescriptorProto] = {}
        self.enums: dict[str, pb.EnumDescriptorProto] = {}
        self.proto2: dict[str, bool] = {}
        for fd in [*schema.imports.values(), schema.file]:
            scope = "." + fd.package if fd.package else ""
            self._walk(scope, fd.message_type, fd.enum_type, fd.syntax != "proto3")

    def _walk(self, scope: str, msgs: Any, enums: Any, proto2: bool) -> None:
        for e in enums:
            self.enums[f"{scope}.{e.name}"] = e
        for m in msgs:
            full = f"{scope}.{m.name}"
            self.messages[full] = m
            self.proto2[full] = proto2
            self._walk(full, m.nested_type, m.enum_type, proto2)


def message_at(schema: ProtoSchema, indexes: list[int]) -> str:
    """The full name of the message a record's message-index list points at."""
    fd = schema.file
    scope = "." + fd.package if fd.package else ""
    msgs: Any = fd.message_type
    for i in indexes:
        if not 0 <= i < len(msgs):
            raise DataError(f"message index {indexes} does not exist in the schema")
        scope = f"{scope}.{msgs[i].name}"
        msgs = msgs[i].nested_type
    return scope


def is_map(f: pb.FieldDescriptorProto, types: Types) -> bool:
    if f.label != F.LABEL_REPEATED or f.type != F.TYPE_MESSAGE:
        return False
    m = types.messages[f.type_name]
    return (
        m.name.endswith("Entry")
        and len(m.field) == 2
        and (m.field[0].name, m.field[1].name) == ("key", "value")
        and F.LABEL_REPEATED not in (m.field[0].label, m.field[1].label)
    )


def in_real_oneof(f: pb.FieldDescriptorProto) -> bool:
    return f.HasField("oneof_index") and not f.proto3_optional


def has_optional_keyword(f: pb.FieldDescriptorProto, proto2: bool) -> bool:
    return f.proto3_optional or (proto2 and f.label == F.LABEL_OPTIONAL and not f.HasField("oneof_index"))


def real_oneofs(m: pb.DescriptorProto) -> list[int]:
    return sorted({f.oneof_index for f in m.field if f.HasField("oneof_index") and not f.proto3_optional})


def union_field_name(m: pb.DescriptorProto, index: int, config: ProtobufDataConfig) -> str:
    name = m.oneof_decl[index].name
    return f"{name}_{index}" if config.generate_index_for_unions else name


def to_connect_schema(types: Types, message: str, config: ProtobufDataConfig, version: int | None = None) -> Schema:
    """ProtobufData.toConnectSchema for the message `message` (full name)."""
    if config.wrapper_for_raw_primitives and message in UNWRAPPED:
        return Schema(UNWRAPPED[message], version=version)
    return _struct(types, message, config, version, {})


def _struct(
    types: Types, message: str, config: ProtobufDataConfig, version: int | None, seen: dict[str, Schema | None]
) -> Schema:
    if message in seen:
        raise DataError(f"Recursive Protobuf message {message} has no Connect schema")
    seen[message] = None
    m = types.messages[message]
    proto2 = types.proto2[message]
    fields: list[Field] = []
    for index in real_oneofs(m):
        if config.flatten_unions:  # the members as fields of their own (ProtobufData.toConnectSchema)
            for f in m.field:
                if f.HasField("oneof_index") and f.oneof_index == index:
                    fields.append(Field(f.name, len(fields), _field(types, f, config, True, proto2, seen)))
            continue
        members = [
            Field(f.name, i, _field(types, f, config, True, proto2, seen))
            for i, f in enumerate(x for x in m.field if x.HasField("oneof_index") and x.oneof_index == index)
        ]
        oneof = m.oneof_decl[index].name
        union_name = f"{message.lstrip('.')}.{oneof}" if config.enhanced_schema_support else oneof
        if config.generalized_sum_type_support:
            union = Schema(
                Type.STRUCT, optional=True, name=oneof, parameters={GENERALIZED_UNION: oneof}, fields=members
            )
        else:
            union = Schema(Type.STRUCT, optional=True, name=f"{UNION}.{union_name}", fields=members)
        fields.append(Field(union_field_name(m, index, config), len(fields), union))
    for f in m.field:
        if f.HasField("oneof_index") and not f.proto3_optional:
            continue
        fields.append(Field(f.name, len(fields), _field(types, f, config, False, proto2, seen)))
    del seen[message]
    name = message.lstrip(".") if config.enhanced_schema_support else m.name
    return Schema(Type.STRUCT, name=name, version=version, fields=fields)


def _field(
    types: Types,
    f: pb.FieldDescriptorProto,
    config: ProtobufDataConfig,
    oneof_member: bool,
    proto2: bool,
    seen: dict[str, Schema | None],
) -> Schema:
    params: dict[str, str] = {}
    name: str | None = None
    version: int | None = None
    ctype: Type
    fields: tuple[Field, ...] = ()
    key = value = None
    meta = proto_text.field_meta(f.options).get("params", {}) if f.HasField("options") else {}
    if f.type in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        ctype = Type.INT32
        if meta.get(CONNECT_TYPE) in ("int8", "int16"):
            ctype = Type(meta[CONNECT_TYPE])
        elif f.type != F.TYPE_INT32:
            params[PROTO_TYPE] = proto_text.SCALAR_NAMES[f.type]
    elif f.type in _SCALAR_TO_CONNECT:
        ctype = _SCALAR_TO_CONNECT[f.type]
        if ctype is Type.INT64 and f.type != F.TYPE_INT64:
            params[PROTO_TYPE] = proto_text.SCALAR_NAMES[f.type]
    elif f.type == F.TYPE_ENUM:
        e = types.enums[f.type_name]
        ctype = Type.INT32 if config.int_for_enums else Type.STRING
        name = f.type_name.lstrip(".") if config.enhanced_schema_support else e.name
        params[config.enum_key] = e.name
        for v in e.value:
            params[f"{config.enum_key}.{v.name}"] = str(v.number)
    elif f.type == F.TYPE_MESSAGE:
        full = f.type_name
        if full == DECIMAL_TYPE:
            ctype, name, version = Type.BYTES, DECIMAL, 1
            params[SCALE_FIELD] = meta.get("scale", "0") if meta.get("scale", "").lstrip("-").isdigit() else "0"
            if meta.get("precision", "").isdigit():
                params[PRECISION] = meta["precision"]
        elif full in (DATE_TYPE, TIME_TYPE, TIMESTAMP_TYPE):
            ctype = Type.INT64 if full == TIMESTAMP_TYPE else Type.INT32
            name, version = {DATE_TYPE: DATE, TIME_TYPE: TIME, TIMESTAMP_TYPE: TIMESTAMP}[full], 1
        elif config.wrapper_for_nullables and full in UNWRAPPED:
            ctype = UNWRAPPED[full]
        elif is_map(f, types):
            entry = types.messages[full]
            ctype = Type.MAP
            name = _map_field_name(full.lstrip(".") if config.enhanced_schema_support else entry.name)
            key = _field(types, entry.field[0], config, False, proto2, seen)
            value = _field(types, entry.field[1], config, False, proto2, seen)
        else:
            s = _struct(types, full, config, None, seen)
            ctype, name, fields = Type.STRUCT, s.name, s.fields
    else:
        raise DataError(f"Unknown Connect schema type: {f.type}")
    optional = f.type in (F.TYPE_ENUM, F.TYPE_MESSAGE)
    schema = Schema(
        ctype,
        optional=optional,
        name=name,
        version=version,
        parameters=params or None,
        fields=fields,
        key_schema=key,
        value_schema=value,
    )
    if f.label == F.LABEL_REPEATED and ctype is not Type.MAP:
        schema = Schema(Type.ARRAY, optional=True, value_schema=schema.with_(optional=True))
        params = {}
    if oneof_member:
        optional = True
        if config.wrapper_for_nullables and f.type == F.TYPE_MESSAGE and f.type_name in UNWRAPPED:
            params = {**(schema.parameters or {}), WRAPPER_MARK: "true"}
            schema = schema.with_(parameters=params)
    elif config.optional_for_nullables:
        optional = schema.optional or has_optional_keyword(f, proto2)
    elif not config.wrapper_for_nullables:
        optional = True
    else:
        optional = schema.optional
    return schema.with_(
        optional=optional or schema.optional, parameters={**(schema.parameters or {}), TAG: str(f.number)}
    )
