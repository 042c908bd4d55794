"""Connect values <-> Protobuf messages (python `protobuf`'s message classes, built once per schema from the
registered descriptors): a filler and a reader compiled per Connect schema, converting as Confluent's ProtobufData
does (Decimal as unscaled two's-complement bytes with precision and scale, Date/TimeOfDay fields, Timestamp seconds
and nanos from milliseconds, enums by symbol, unions as the one member set, unset proto3 scalars read as their
default, unset messages as null)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from google.protobuf import descriptor_pb2 as pb
from google.protobuf import descriptor_pool, message_factory

from ..data.schema import (
    DATE,
    DECIMAL,
    EXACT,
    TIME,
    TIMESTAMP,
    DataError,
    Schema,
    Struct,
    Type,
    millis_to_time,
    millis_to_timestamp,
    time_to_millis,
    timestamp_to_millis,
)
from .protobuf_data import (
    UNWRAPPED,
    ProtobufDataConfig,
    ProtoSchema,
    Types,
    has_optional_keyword,
    in_real_oneof,
    is_enum,
    is_map,
    is_union,
    real_oneofs,
)

F = pb.FieldDescriptorProto
Fill = Callable[[Any, Any], None]  # (message, value): puts a Connect value into a (sub)message
Read = Callable[[Any], Any]  # message -> Connect value
Setter = Callable[[Any, str, Any], None]  # (message, field name, value): sets one field


def message_class(schema: ProtoSchema, message: str) -> Any:
    """The python class of `message`, from a pool of its own holding the schema's files."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(fd: pb.FileDescriptorProto) -> None:
        if fd.name in added:
            return
        for dep in fd.dependency:
            add(schema.imports[dep])
        added.add(fd.name)
        pool.Add(fd)

    add(schema.file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(message.lstrip(".")))


def _identity(v: Any) -> Any:
    return v


# -- Connect -> Protobuf ----------------------------------------------------------------------------------------
def _put_decimal(sub: Any, v: decimal.Decimal) -> None:
    t = v.as_tuple()
    exponent = t.exponent
    if not isinstance(exponent, int):
        raise DataError(f"Decimal value {v} is not finite")
    unscaled = int(v.scaleb(-exponent, EXACT))  # BigDecimal's unscaled value, precision and scale
    sub.value = unscaled.to_bytes((unscaled + (unscaled < 0)).bit_length() // 8 + 1, "big", signed=True)
    sub.precision = len(t.digits)
    sub.scale = -exponent
    sub.SetInParent()


def _put_date(sub: Any, v: dt.date) -> None:
    sub.year, sub.month, sub.day = v.year, v.month, v.day
    sub.SetInParent()


def _put_time(sub: Any, v: dt.time) -> None:
    ms = time_to_millis(v)
    sub.hours, sub.minutes, sub.seconds = ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60
    sub.nanos = ms % 1000 * 1_000_000
    sub.SetInParent()


def _put_timestamp(sub: Any, v: dt.datetime) -> None:
    ms = timestamp_to_millis(v)
    sub.seconds, sub.nanos = ms // 1000, ms % 1000 * 1_000_000
    sub.SetInParent()


_LOGICAL_PUT: dict[str, Fill] = {DECIMAL: _put_decimal, DATE: _put_date, TIME: _put_time, TIMESTAMP: _put_timestamp}


def _scalar(schema: Schema, config: ProtobufDataConfig) -> Callable[[Any], Any] | None:
    """How a Connect value becomes a scalar field's value (None: it is a message)."""
    if is_enum(schema):
        if schema.type is Type.INT32:
            return int
        symbols = config.enum_symbols(schema)
        enum = (schema.parameters or {}).get(config.enum_key)

        def symbol(v: str) -> int:
            try:
                return symbols[v]
            except KeyError:
                raise DataError(f"{v!r} is not a symbol of enum {enum}") from None

        return symbol
    if schema.type is Type.BYTES and schema.name != DECIMAL:
        return lambda v: v if v.__class__ is bytes else bytes(v)
    if schema.type.is_primitive and schema.name not in _LOGICAL_PUT:
        return _identity
    return None


class Encoders:
    def __init__(self, types: Types, config: ProtobufDataConfig):
        self.types, self.config = types, config

    def struct(self, schema: Schema, message: str) -> Fill:
        """A filler of a message from a Struct of `schema`."""
        m = self.types.messages[message]
        by_name = {f.name: f for f in m.field}
        scrub = self.config.scrub
        keep_nulls = self.config.ignore_default_for_nullables  # Struct.getWithoutDefault: no default for a null
        steps: list[tuple[int, str, Setter, Any]] = []
        for i, field in enumerate(schema.fields):
            fs = field.schema
            default = None if keep_nulls else fs.default
            if is_union(fs):
                names = [scrub(mf.name) for mf in fs.fields]
                members = [(n, self._setter(mf.schema, by_name[n])) for n, mf in zip(names, fs.fields)]
                steps.append((i, "", self._union(members), default))
                continue
            name = scrub(field.name)
            pf = by_name.get(name)
            if pf is None:
                raise DataError(f"Cannot find field with name {name}")
            steps.append((i, name, self._setter(fs, pf), default))

        def fill(msg: Any, value: Any) -> None:
            if value.__class__ is not Struct:
                raise DataError(f"Expected a Struct, got {type(value).__name__}")
            values = value.values
            for i, name, put, default in steps:
                v = values[i]
                if v is None:
                    if default is None:
                        continue
                    v = default
                put(msg, name, v)
            msg.SetInParent()

        return fill

    def _union(self, members: list[tuple[str, Setter]]) -> Setter:
        def put(msg: Any, _name: str, union: Any) -> None:
            for (name, set_), v in zip(members, union.values):
                if v is not None:
                    set_(msg, name, v)
                    return
            raise DataError("Cannot find non-null field")

        return put

    def _element(self, schema: Schema, type_name: str) -> tuple[Callable[[Any], Any] | None, Fill | None]:
        """(scalar conversion, None) or (None, message filler) for one value of `schema`."""
        scalar = _scalar(schema, self.config)
        if type_name in UNWRAPPED and scalar is not None:

            def wrapped(sub: Any, v: Any) -> None:
                sub.value = scalar(v)
                sub.SetInParent()

            return None, wrapped
        if scalar is not None:
            return scalar, None
        if schema.name in _LOGICAL_PUT:
            return None, _LOGICAL_PUT[schema.name]
        if schema.type is Type.STRUCT:
            return None, self.struct(schema, type_name)
        raise DataError(f"Unsupported schema {schema!r} for a Protobuf message field")

    def _setter(self, schema: Schema, pf: pb.FieldDescriptorProto) -> Setter:
        if schema.type is Type.MAP:
            return self._map(schema, pf)
        elem = schema.value_schema if schema.type is Type.ARRAY else schema
        assert elem is not None
        scalar, fill = self._element(elem, pf.type_name)
        if schema.type is Type.ARRAY:
            if scalar is not None:
                conv = scalar

                def put_list(msg: Any, name: str, v: Any) -> None:
                    if None in v:
                        raise DataError(f"null element in the repeated field {name}")
                    getattr(msg, name).extend([conv(x) for x in v])

                return put_list
            assert fill is not None
            fill_elem = fill

            def put_messages(msg: Any, name: str, v: Any) -> None:
                rep = getattr(msg, name)
                for x in v:
                    if x is None:
                        raise DataError(f"null element in the repeated field {name}")
                    fill_elem(rep.add(), x)

            return put_messages
        if scalar is _identity:
            return setattr  # the common case, without a Python frame per field
        if scalar is not None:
            conv = scalar
            return lambda msg, name, v: setattr(msg, name, conv(v))
        assert fill is not None
        fill_one = fill
        return lambda msg, name, v: fill_one(getattr(msg, name), v)

    def _map(self, schema: Schema, pf: pb.FieldDescriptorProto) -> Setter:
        entry = self.types.messages[pf.type_name]
        assert schema.key_schema is not None and schema.value_schema is not None
        kconv, _ = self._element(schema.key_schema, entry.field[0].type_name)
        vconv, vfill = self._element(schema.value_schema, entry.field[1].type_name)
        if kconv is None:
            raise DataError("Protobuf map keys must be scalars")
        key_conv = kconv
        if entry.options.map_entry:  # a python map container

            def put_map(msg: Any, name: str, v: Any) -> None:
                container = getattr(msg, name)
                for k, x in v.items():
                    if vconv is not None:
                        container[key_conv(k)] = vconv(x)
                    else:
                        vfill(container[key_conv(k)], x)  # type: ignore[misc]

            return put_map

        def put_entries(msg: Any, name: str, v: Any) -> None:
            rep = getattr(msg, name)
            for k, x in v.items():
                e = rep.add()
                if k is not None:
                    e.key = key_conv(k)
                if x is not None:
                    if vconv is not None:
                        e.value = vconv(x)
                    else:
                        vfill(e.value, x)  # type: ignore[misc]

        return put_entries


# -- Protobuf -> Connect ----------------------------------------------------------------------------------------
def _get_decimal(sub: Any) -> decimal.Decimal:
    unscaled = sub.value
    if not unscaled:  # new BigInteger(new byte[0]) throws: an unset Decimal (generate.struct.for.nulls) is an error
        raise DataError("confluent.type.Decimal without a value (Zero length BigInteger)")
    return decimal.Decimal(int.from_bytes(unscaled, "big", signed=True)).scaleb(-sub.scale, EXACT)


def _get_date(sub: Any) -> dt.date:
    try:
        return dt.date(sub.year, sub.month, sub.day)
    except ValueError as e:
        raise DataError(f"Invalid google.type.Date {sub.year}-{sub.month}-{sub.day}: {e}") from None


def _get_time(sub: Any) -> dt.time:
    return millis_to_time(((sub.hours * 60 + sub.minutes) * 60 + sub.seconds) * 1000 + sub.nanos // 1_000_000)


def _get_timestamp(sub: Any) -> dt.datetime:
    return millis_to_timestamp(sub.seconds * 1000 + sub.nanos // 1_000_000)


_LOGICAL_GET: dict[str, Read] = {DECIMAL: _get_decimal, DATE: _get_date, TIME: _get_time, TIMESTAMP: _get_timestamp}


class Decoders:
    def __init__(self, types: Types, config: ProtobufDataConfig):
        self.types, self.config = types, config

    def struct(self, schema: Schema, message: str) -> Read:
        m = self.types.messages[message]
        proto2 = self.types.proto2[message]
        by_name = {f.name: f for f in m.field}
        oneofs = iter(real_oneofs(m))
        getters: list[Read] = []
        plain: list[str] = []  # fields read as they are (the usual flat record): one attrgetter for them all
        for field in schema.fields:
            fs = field.schema
            if is_union(fs):
                getters.append(self._union(fs, m.oneof_decl[next(oneofs)].name, by_name))
                continue
            pf = by_name[field.name]
            getters.append(self._getter(fs, pf, proto2))
            if isinstance(getters[-1], attrgetter):
                plain.append(pf.name)
        if len(plain) == len(getters) > 1:
            get_all = attrgetter(*plain)
            return lambda msg: Struct(schema, list(get_all(msg)))

        def read(msg: Any) -> Struct:
            return Struct(schema, [g(msg) for g in getters])

        return read

    def _union(self, schema: Schema, oneof: str, by_name: dict[str, pb.FieldDescriptorProto]) -> Read:
        members = {f.name: (i, self._value(f.schema, by_name[f.name].type_name)) for i, f in enumerate(schema.fields)}
        size = len(schema.fields)

        def read(msg: Any) -> Struct | None:
            which = msg.WhichOneof(oneof)
            if which is None:
                return None
            i, conv = members[which]
            values: list[Any] = [None] * size
            values[i] = conv(getattr(msg, which))
            return Struct(schema, values)

        return read

    def _value(self, schema: Schema, type_name: str) -> Read:
        """One field value (a scalar or a submessage) -> Connect."""
        if schema.name in _LOGICAL_GET:
            return _LOGICAL_GET[schema.name]
        if type_name in UNWRAPPED and schema.type is not Type.STRUCT:
            return lambda sub: sub.value
        if is_enum(schema) and schema.type is Type.STRING:
            names = {v: k for k, v in self.config.enum_symbols(schema).items()}
            return lambda n: names.get(n) or str(n)
        if schema.type is Type.STRUCT:
            return self.struct(schema, type_name)
        return _identity

    def _getter(self, schema: Schema, pf: pb.FieldDescriptorProto, proto2: bool) -> Read:
        name = pf.name
        if schema.type is Type.MAP:
            entry = self.types.messages[pf.type_name]
            assert schema.key_schema is not None and schema.value_schema is not None
            kconv = self._value(schema.key_schema, entry.field[0].type_name)
            vconv = self._value(schema.value_schema, entry.field[1].type_name)
            if entry.options.map_entry:
                return lambda msg: {kconv(k): vconv(v) for k, v in getattr(msg, name).items()}
            return lambda msg: {kconv(e.key): vconv(e.value) for e in getattr(msg, name)}
        if pf.label == F.LABEL_REPEATED and is_map(pf, self.types):
            raise DataError(f"field {name} is a map in Protobuf but not in Connect")
        if schema.type is Type.ARRAY:
            assert schema.value_schema is not None
            conv = self._value(schema.value_schema, pf.type_name)
            return lambda msg: [conv(x) for x in getattr(msg, name)]
        conv = self._value(schema, pf.type_name)
        # ProtobufData.setStructField: an unset message or `optional` field is null, or with generate.struct.for.nulls
        # its default; the members of a oneof read as fields (flatten.unions) are null but for the one set
        if in_real_oneof(pf) or (
            not self.config.generate_struct_for_nulls
            and (pf.type == F.TYPE_MESSAGE or has_optional_keyword(pf, proto2 and self.config.optional_for_proto2))
        ):
            return lambda msg: conv(getattr(msg, name)) if msg.HasField(name) else None
        if conv is _identity:
            return attrgetter(name)
        return lambda msg: conv(getattr(msg, name))
