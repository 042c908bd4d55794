"""Connect values <-> the JSON of JsonSchemaConverter's payloads: JsonConverter's compiled encoders and decoders
(schemas off), except that maps with non-string keys are arrays of {"key": k, "value": v} objects (JsonSchemaData)
where JsonConverter writes [k, v] pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..data.schema import DataError, Schema, Type
from .json.decoders import Decoders
from .json.encoders import Encoders


class SchemaEncoders(Encoders):
    def _non_null(self, schema: Schema) -> Any:
        ks = schema.key_schema
        if schema.type is not Type.MAP or ks is None or (ks.type is Type.STRING and not ks.optional):
            return super()._non_null(schema)
        kenc, venc = self.get(ks), self.get(schema.value_schema)  # type: ignore[arg-type]

        def enc_entries(v: Any) -> list[dict[str, Any]]:
            if not isinstance(v, Mapping):
                raise DataError(f"Invalid type for MAP: {type(v).__name__}")
            return [{"key": kenc(k), "value": venc(x)} for k, x in v.items()]

        return enc_entries


class SchemaDecoders(Decoders):
    def _non_null(self, schema: Schema) -> Any:
        ks = schema.key_schema
        if schema.type is not Type.MAP or ks is None or ks.type is Type.STRING:
            return super()._non_null(schema)
        kdec, vdec = self.get(ks), self.get(schema.value_schema)  # type: ignore[arg-type]

        def dec_entries(v: Any) -> dict[Any, Any]:
            if v.__class__ is not list or any(e.__class__ is not dict for e in v):
                raise DataError("Maps with non-string keys should be JSON arrays of {key, value} objects")
            return {kdec(e.get("key")): vdec(e.get("value")) for e in v}

        return dec_entries


def default_to_json(schema: Schema, value: Any, numeric_decimals: bool) -> Any:
    return SchemaEncoders(numeric_decimals, True).get(schema.with_(default=None))(value)


def default_from_json(schema: Schema, value: Any) -> Any:
    return SchemaDecoders(True).get(schema.with_(default=None))(value)
