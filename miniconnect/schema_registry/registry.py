"""The Schema Registry's operations (Confluent's REST API semantics without HTTP): register, look up, list,
soft and hard delete, compatibility checks, config and mode. State lives in a SchemasTopic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import json_schema
from .avro_normalize import normalized
from .avro_schema import ParsedSchema, incompatibilities
from .errors import (
    Incompatible,
    InvalidCompatibility,
    InvalidMode,
    InvalidSchema,
    InvalidVersion,
    NotPermitted,
    ReferenceExists,
    SchemaNotFound,
    SubjectConfigNotFound,
    SubjectModeNotFound,
    SubjectNotFound,
    SubjectNotSoftDeleted,
    SubjectSoftDeleted,
    VersionNotFound,
    VersionNotSoftDeleted,
    VersionSoftDeleted,
)
from .store import LEVELS, MODES, SchemasTopic, StoredSchema, Version, schema_record

DEFAULT_LEVEL = "BACKWARD"
DEFAULT_MODE = "READWRITE"
MAX_VERSION = 2**31 - 1


class Registry:
    def __init__(self, topic: SchemasTopic, default_level: str = DEFAULT_LEVEL):
        self.topic = topic
        self.default_level = default_level

    @property
    def state(self) -> Any:
        return self.topic.state

    # -- schemas ------------------------------------------------------------------------------------------------
    def parse(
        self, text: str, schema_type: str, references: Iterable[dict[str, Any]], normalize: bool = False
    ) -> tuple[StoredSchema, Any]:
        """normalize: Avro schemas in their normalized text (avro_normalize.py), JSON schemas with sorted keys."""
        schema_type = (schema_type or "AVRO").upper()
        if schema_type not in ("AVRO", "JSON", "PROTOBUF"):
            raise InvalidSchema(f"Invalid schema: schema type {schema_type} is not supported by this registry")
        if not isinstance(text, str):
            raise InvalidSchema("Invalid schema: 'schema' must be a string")
        refs = []
        for r in references or ():
            try:
                refs.append((str(r["name"]), str(r["subject"]), int(r["version"])))
            except (KeyError, TypeError, ValueError):
                raise InvalidSchema(f"Invalid schema reference {r}") from None
        if schema_type == "JSON":
            if normalize:  # JsonSchema.normalize(): references sorted by subject and version, without repeats
                refs = sorted(dict.fromkeys(refs), key=lambda r: (r[1], r[2]))
            doc, canonical = json_schema.parse(text, normalize)
            parsed_json = json_schema.JsonDocument(doc, self._referenced_json(refs))
            parsed_json.check_refs()
            return StoredSchema(canonical, schema_type, tuple(refs)), parsed_json
        if schema_type == "PROTOBUF":
            proto = self._parse_proto(text, refs)
            return StoredSchema(proto.canonical, schema_type, tuple(refs)), proto
        named = self._referenced_types(refs)
        if normalize:
            ParsedSchema(text, named)  # refused as written, before normalizing
            text = normalized(text, named)
        parsed = ParsedSchema(text, named)
        return StoredSchema(parsed.canonical, schema_type, tuple(refs)), parsed

    def _referenced_types(self, refs: Iterable[tuple[str, str, int]], depth: int = 0) -> dict[str, Any]:
        named: dict[str, Any] = {}
        if depth > 32:
            raise InvalidSchema("Invalid schema: references nest too deeply (a cycle?)")
        for _name, subject, version in refs:
            stored = self.state.schemas[self._reference(subject, version).id]
            inner = self._referenced_types(stored.references, depth + 1)
            named.update(ParsedSchema(stored.text, inner).named)
        return named

    def _referenced_json(
        self, refs: Iterable[tuple[str, str, int]], depth: int = 0
    ) -> dict[str, json_schema.JsonDocument]:
        """Reference name -> the referenced JSON schema, with its own references."""
        if depth > 32:
            raise InvalidSchema("Invalid schema: references nest too deeply (a cycle?)")
        out = {}
        for name, subject, version in refs:
            stored = self.state.schemas[self._reference(subject, version).id]
            out[name] = json_schema.JsonDocument(
                json_schema.parse(stored.text)[0], self._referenced_json(stored.references, depth + 1)
            )
        return out

    def _reference(self, subject: str, version: int) -> Version:
        v: Version | None = self.state.subjects.get(subject, {}).get(version)
        if v is None:
            raise InvalidSchema(f"Invalid schema: reference to subject {subject} version {version} not found")
        return v

    def _parse_proto(self, text: str, refs: Iterable[tuple[str, str, int]]) -> Any:
        """A Protobuf schema with its imports: the well-known ones built in, the others from references."""
        from .protobuf_schema import ParsedProto

        def fetch(key: str) -> tuple[str, dict[str, str]]:
            subject, _, version = key.rpartition("\x00")
            v = self.state.subjects.get(subject, {}).get(int(version))
            if v is None:
                raise InvalidSchema(f"Invalid schema: reference to subject {subject} version {version} not found")
            stored = self.state.schemas[v.id]
            return stored.text, {n: f"{s}\x00{rv}" for n, s, rv in stored.references}

        return ParsedProto(text, {n: f"{s}\x00{v}" for n, s, v in refs}, fetch)

    def parsed(self, schema_id: int) -> Any:
        stored = self.schema(schema_id)
        if stored.schema_type == "JSON":
            return json_schema.JsonDocument(json_schema.parse(stored.text)[0], self._referenced_json(stored.references))
        if stored.schema_type == "PROTOBUF":
            return self._parse_proto(stored.text, stored.references)
        return ParsedSchema(stored.text, self._referenced_types(stored.references))

    def schema(self, schema_id: int) -> StoredSchema:
        stored = self.state.schemas.get(schema_id)
        if stored is None or not self._id_in_use(schema_id):
            raise SchemaNotFound(f"Schema {schema_id} not found")
        return stored

    def _id_in_use(self, schema_id: int) -> bool:
        return any(v.id == schema_id for vs in self.state.subjects.values() for v in vs.values())

    def subjects_of(self, schema_id: int, deleted: bool = False) -> list[tuple[str, int]]:
        self.schema(schema_id)
        return [
            (s, n)
            for s, vs in sorted(self.state.subjects.items())
            for n, v in sorted(vs.items())
            if v.id == schema_id and (deleted or not v.deleted)
        ]

    # -- subjects and versions ----------------------------------------------------------------------------------
    def subjects(self, deleted: bool = False, prefix: str = "") -> list[str]:
        return sorted(
            s
            for s, vs in self.state.subjects.items()
            if s.startswith(prefix) and (deleted or any(not v.deleted for v in vs.values()))
        )

    def _versions(self, subject: str, deleted: bool = False) -> dict[int, Version]:
        vs = {n: v for n, v in self.state.subjects.get(subject, {}).items() if deleted or not v.deleted}
        if not vs:
            raise SubjectNotFound(f"Subject '{subject}' not found.")
        return vs

    def versions(self, subject: str, deleted: bool = False) -> list[int]:
        return sorted(self._versions(subject, deleted))

    def version(self, subject: str, version: str | int, deleted: bool = False) -> tuple[int, Version]:
        vs = self._versions(subject, deleted)
        n = parse_version(version)
        if n == -1:
            n = max(vs)
        v = vs.get(n)
        if v is None:
            raise VersionNotFound(f"Version {n} not found.")
        return n, v

    def schema_json(self, schema_id: int, serialized: bool = False, **head: Any) -> dict[str, Any]:
        """A schema as the API shows it: `head` first, then schemaType (unless AVRO), references, schema (with
        `serialized`, a Protobuf schema as the base64 of its FileDescriptorProto, `?format=serialized`)."""
        stored = self.schema(schema_id)
        out: dict[str, Any] = dict(head)
        if stored.schema_type != "AVRO":
            out["schemaType"] = stored.schema_type
        if stored.references:
            out["references"] = stored.references_json()
        out["schema"] = stored.text
        if serialized and stored.schema_type == "PROTOBUF":
            out["schema"] = self.parsed(schema_id).serialized()
        return out

    def version_json(self, subject: str, n: int, v: Version, serialized: bool = False) -> dict[str, Any]:
        return self.schema_json(v.id, serialized, subject=subject, version=n, id=v.id)

    def referenced_by(self, subject: str, version: str | int) -> list[int]:
        n, _ = self.version(subject, version, deleted=True)
        return sorted(
            {
                v.id
                for vs in self.state.subjects.values()
                for v in vs.values()
                if not v.deleted and any(s == subject and rv == n for _, s, rv in self.state.schemas[v.id].references)
            }
        )

    def lookup(
        self,
        subject: str,
        text: str,
        schema_type: str,
        references: Iterable[dict[str, Any]],
        deleted: bool = False,
        normalize: bool = False,
    ) -> dict[str, Any]:
        vs = self._versions(subject, deleted)
        stored, _ = self.parse(text, schema_type, references, normalize)
        for n, v in sorted(vs.items(), reverse=True):
            if self._same(self.state.schemas[v.id], stored, normalize):
                return self.version_json(subject, n, v)
        raise SchemaNotFound("Schema not found")

    def _same(self, registered: StoredSchema, candidate: StoredSchema, normalize: bool) -> bool:
        """Whether a registered schema is the candidate: as written, or both normalized (normalize=true)."""
        if registered == candidate:
            return True
        kind = registered.schema_type
        if not normalize or kind != candidate.schema_type or kind not in ("AVRO", "JSON"):
            return False
        refs = [{"name": n, "subject": s, "version": v} for n, s, v in registered.references]
        return self.parse(registered.text, kind, refs, True)[0] == candidate

    async def register(
        self,
        subject: str,
        text: str,
        schema_type: str,
        references: Iterable[dict[str, Any]],
        schema_id: int | None = None,
        version: int | None = None,
        normalize: bool = False,
    ) -> int:
        mode = self.mode(subject)
        if mode.startswith("READONLY"):
            raise NotPermitted(f"Subject {subject} is in read-only mode")
        if (schema_id is not None or version is not None) and mode != "IMPORT":
            raise NotPermitted(f"Subject {subject} is not in import mode")
        stored, parsed = self.parse(text, schema_type, references, normalize)
        async with self.topic.lock:
            versions = self.state.subjects.get(subject, {})
            live = {n: v for n, v in versions.items() if not v.deleted}
            for v in live.values():
                if self._same(self.state.schemas[v.id], stored, normalize):
                    return v.id
            if mode != "IMPORT":
                errors = self._incompatibilities(subject, parsed, live)
                if errors:
                    raise Incompatible(
                        f'Schema being registered is incompatible with an earlier schema for subject "{subject}", '
                        f"details: {errors}"
                    )
            known = self.state.ids.get(stored)
            if schema_id is None:
                schema_id = known if known is not None else self.state.next_id()
            elif schema_id in self.state.schemas and self.state.schemas[schema_id] != stored:
                raise Incompatible(f"Overwrite new schema with id {schema_id} is not permitted.")
            if version is None:
                version = max(versions, default=0) + 1
            await self.topic.write([schema_record(subject, version, schema_id, stored, False)])
            return schema_id

    def _incompatibilities(self, subject: str, new: Any, live: dict[int, Version]) -> list[str]:
        level = self.compatibility(subject)
        if level == "NONE" or not live:
            return []
        order = sorted(live)
        against = order if level.endswith("_TRANSITIVE") else order[-1:]
        out: list[str] = []
        for n in reversed(against):
            old = self.parsed(live[n].id)
            if type(old) is not type(new):
                out += [f"SCHEMA_TYPE_CHANGED: version {n} is of another schema type"]
                continue
            check = _checks(new)
            found = []
            if level.startswith(("BACKWARD", "FULL")):
                found += check(new, old)
            if level.startswith(("FORWARD", "FULL")):
                found += check(old, new)
            if found:
                out += [*found, f"oldSchemaVersion: {n}", f"oldSchema: '{self.state.schemas[live[n].id].text}'"]
        if out:
            out.append(f"compatibility: '{level}'")
        return out

    def check(
        self,
        subject: str,
        version: str | int | None,
        text: str,
        schema_type: str,
        references: Iterable[dict[str, Any]],
    ) -> list[str]:
        """Messages why the schema is not compatible ([] if it is): with one version, or (None) with the versions
        the subject's level says."""
        _, parsed = self.parse(text, schema_type, references)
        if version is None:
            live = {n: v for n, v in self.state.subjects.get(subject, {}).items() if not v.deleted}
            return self._incompatibilities(subject, parsed, live)
        n, v = self.version(subject, version)
        return self._incompatibilities(subject, parsed, {n: v})

    async def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        async with self.topic.lock:
            versions = self.state.subjects.get(subject)
            if not versions:
                raise SubjectNotFound(f"Subject '{subject}' not found.")
            if permanent:
                live = [n for n, v in versions.items() if not v.deleted]
                if live:
                    raise SubjectNotSoftDeleted(
                        f"Subject '{subject}' was not deleted first before being permanently deleted"
                    )
                self._check_unreferenced(subject, versions)
                gone = sorted(versions)
                await self.topic.write([schema_record(subject, n, 0, None, True) for n in gone])
                return gone
            live = sorted(n for n, v in versions.items() if not v.deleted)
            if not live:
                raise SubjectSoftDeleted(
                    f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
                )
            self._check_unreferenced(subject, live)
            await self.topic.write(
                [schema_record(subject, n, versions[n].id, self.state.schemas[versions[n].id], True) for n in live]
            )
            return live

    async def delete_version(self, subject: str, version: str | int, permanent: bool = False) -> int:
        async with self.topic.lock:
            latest = parse_version(version) == -1
            n, v = self.version(subject, version, deleted=permanent or not latest)
            self._check_unreferenced(subject, [n])
            if permanent:
                if not v.deleted:
                    raise VersionNotSoftDeleted(
                        f"Subject '{subject}' Version {n} was not deleted first before being permanently deleted"
                    )
                await self.topic.write([schema_record(subject, n, 0, None, True)])
                return n
            if v.deleted:
                raise VersionSoftDeleted(
                    f"Subject '{subject}' Version {n} was soft deleted.Set permanent=true to delete permanently"
                )
            await self.topic.write([schema_record(subject, n, v.id, self.state.schemas[v.id], True)])
            return n

    def _check_unreferenced(self, subject: str, versions: Iterable[int]) -> None:
        for n in versions:
            if self.referenced_by(subject, n):
                raise ReferenceExists(
                    f"One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={subject},"
                    f"version={n}}}."
                )

    # -- config and mode ----------------------------------------------------------------------------------------
    def compatibility(self, subject: str | None = None, default_to_global: bool = True) -> str:
        levels = self.state.compatibility
        if subject is not None and subject in levels:
            return levels[subject]
        if subject is not None and not default_to_global:
            raise SubjectConfigNotFound(f"Subject '{subject}' does not have subject-level compatibility configured")
        return levels.get(None, self.default_level)

    async def set_compatibility(self, subject: str | None, level: Any) -> str:
        if not isinstance(level, str) or level.upper() not in LEVELS:
            raise InvalidCompatibility(
                "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, "
                "forward_transitive, and full_transitive"
            )
        level = level.upper()
        async with self.topic.lock:
            await self.topic.write(
                [({"keytype": "CONFIG", "subject": subject, "magic": 0}, {"compatibilityLevel": level})]
            )
        return level

    async def delete_compatibility(self, subject: str | None) -> str:
        if subject is not None and subject not in self.state.subjects:
            raise SubjectNotFound(f"Subject '{subject}' not found.")
        old = self.compatibility(subject)
        async with self.topic.lock:
            await self.topic.write([({"keytype": "CONFIG", "subject": subject, "magic": 0}, None)])
        return old

    def mode(self, subject: str | None = None, default_to_global: bool = True) -> str:
        modes = self.state.modes
        if subject is not None and subject in modes:
            return modes[subject]
        if subject is not None and not default_to_global:
            raise SubjectModeNotFound(f"Subject '{subject}' does not have subject-level mode configured")
        return modes.get(None, DEFAULT_MODE)

    async def set_mode(self, subject: str | None, mode: Any) -> str:
        if not isinstance(mode, str) or mode.upper() not in MODES:
            raise InvalidMode("Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT")
        mode = mode.upper()
        async with self.topic.lock:
            await self.topic.write([({"keytype": "MODE", "subject": subject, "magic": 0}, {"mode": mode})])
        return mode

    async def delete_mode(self, subject: str) -> str:
        old = self.mode(subject)
        async with self.topic.lock:
            await self.topic.write([({"keytype": "MODE", "subject": subject, "magic": 0}, None)])
        return old


def _checks(parsed: Any) -> Any:
    if isinstance(parsed, ParsedSchema):
        return incompatibilities
    if isinstance(parsed, json_schema.JsonDocument):
        return json_schema.incompatibilities
    from .protobuf_schema import incompatibilities as proto_incompatibilities

    return proto_incompatibilities


def parse_version(version: str | int) -> int:
    """1 .. 2^31-1, or "latest" / -1 (returned as -1); InvalidVersion otherwise."""
    if version == "latest":
        return -1
    try:
        n = int(version)
    except (TypeError, ValueError):
        n = 0
    if n == -1 or 1 <= n <= MAX_VERSION:
        return n
    raise InvalidVersion(
        f"The specified version '{version}' is not a valid version id. Allowed values are between "
        '[1, 2^31-1] and the string "latest"'
    )
