"""A synchronous Schema Registry client for the converters (Confluent's CachedSchemaRegistryClient, in small):
several URLs tried in turn, basic or bearer authentication, TLS from `schema.registry.ssl.*`, retries with back-off
for a registry that is down, and caches so that each schema costs one request, not one per record.

On an event loop it never waits: a request its caches cannot answer raises SchemaNotCached, whose fetch() a thread
runs (see pending.py); the answer is kept for the call made again on the loop."""

from __future__ import annotations

import base64
import json
import logging
import random
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx

from .pending import SchemaNotCached, on_event_loop

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
REFUSED_FOR_S = 30.0  # a request the registry refused (unknown id, incompatible schema) is made again after this long


class RegistryClientError(Exception):
    """The registry answered with an error (status, Confluent error code), or could not be reached (status 0)."""

    def __init__(self, message: str, status: int = 0, code: int = 0):
        super().__init__(message)
        self.status, self.code = status, code

    @property
    def retriable(self) -> bool:
        """The registry is down or overloaded, rather than refusing the request."""
        return self.status == 0 or self.status in _RETRY_STATUS


class SchemaRegistryClient:
    def __init__(
        self,
        urls: list[str],
        *,
        auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
        ssl_context: Any = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        retries_wait_ms: int = 1000,
        retries_max_wait_ms: int = 20000,
    ):
        if not urls:
            raise ValueError("schema.registry.url is required")
        self.urls = [u.rstrip("/") for u in urls]
        headers = {"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE}
        if bearer_token:
            headers["Authorization"] = f"Bearer {bearer_token}"
        elif auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout_s, verify=ssl_context or True)
        self.max_retries, self.retries_wait_ms, self.retries_max_wait_ms = (
            max_retries,
            retries_wait_ms,
            retries_max_wait_ms,
        )
        self._ids: dict[tuple[str, str], int] = {}  # (subject, schema text) -> id
        self._schemas: dict[int, dict[str, Any]] = {}  # id -> {"schema", "schemaType", "references"}
        self._versions: dict[tuple[str, int], int] = {}  # (subject, id) -> version
        self._latest: dict[str, dict[str, Any]] = {}
        self._subject_versions: dict[tuple[str, int], dict[str, Any]] = {}  # (subject, version) -> schema
        self.requests = 0  # how many HTTP requests were made (the caches' effect shows in tests)
        # answers fetched off the loop, for the same request made again on it (taken once)
        self._fetched: dict[tuple[str, str, bytes | None], Any] = {}
        # requests the registry refused, refused again at once for REFUSED_FOR_S: many records of an unknown id or
        # of an incompatible schema cost one request, not one each
        self._refused: dict[tuple[str, str, bytes | None], tuple[float, RegistryClientError]] = {}

    def close(self) -> None:
        self._http.close()

    # -- HTTP ---------------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        """One request's answer: from a fetch made off the loop, else (on the loop) SchemaNotCached, else made here
        with retries (see _attempts)."""
        content = None if body is None else json.dumps(body).encode()
        key = (method, path, content)
        if key in self._fetched:
            return self._fetched.pop(key)
        refused = self._refused.get(key)
        if refused is not None:
            if time.monotonic() < refused[0]:
                raise refused[1]
            del self._refused[key]
        if on_event_loop():
            raise SchemaNotCached(
                lambda: self._fetch(key),
                f"{method} {path}",
                self.retries_wait_ms,
                self.retries_max_wait_ms,
            )
        try:
            return self._attempts(method, path, content, self.max_retries)
        except RegistryClientError as e:
            if not e.retriable:
                self._refused[key] = (time.monotonic() + REFUSED_FOR_S, e)
            raise

    def _fetch(self, key: tuple[str, str, bytes | None]) -> None:
        """In a thread: one try of each URL; the answer (or the registry's refusal) is kept for the call made again on
        the loop; raises while the registry cannot be reached (the caller waits and fetches again)."""
        try:
            self._fetched[key] = self._attempts(*key, 0)
        except RegistryClientError as e:
            if e.retriable:
                raise
            self._refused[key] = (time.monotonic() + REFUSED_FOR_S, e)

    def _attempts(self, method: str, path: str, content: bytes | None, retries: int) -> Any:
        """The request, trying each URL in turn (Confluent's RestService failover), tried again `retries` times with
        exponential back-off while the registry is unreachable or answers 5xx/408/429."""
        attempt = 0
        while True:
            last: RegistryClientError | None = None
            for base in self.urls:
                self.requests += 1
                try:
                    r = self._http.request(method, base + path, content=content)
                except httpx.HTTPError as e:
                    last = RegistryClientError(f"Schema Registry at {base} is unreachable: {type(e).__name__}: {e}")
                    continue
                if r.status_code < 300:
                    return r.json()
                try:
                    err = r.json()
                    code, message = int(err.get("error_code", r.status_code)), str(err.get("message", r.text))
                except (ValueError, AttributeError):
                    code, message = r.status_code, r.text
                last = RegistryClientError(f"{message}; error code: {code} (from {base})", r.status_code, code)
                if not last.retriable:
                    raise last
            assert last is not None
            if attempt >= retries:
                raise last
            wait = min(self.retries_max_wait_ms, self.retries_wait_ms * 2**attempt) / 1000
            wait *= 0.8 + 0.4 * random.random()
            attempt += 1
            log.warning("%s; retry %d of %d in %.1f s", last, attempt, retries, wait)
            time.sleep(wait)

    # -- API ----------------------------------------------------------------------------------------------------
    def register(self, subject: str, schema: str, normalize: bool = False, schema_type: str = "AVRO") -> int:
        key = (subject, schema)
        schema_id = self._ids.get(key)
        if schema_id is None:
            path = f"/subjects/{_q(subject)}/versions" + ("?normalize=true" if normalize else "")
            schema_id = int(self._request("POST", path, _body(schema, schema_type))["id"])
            self._ids[key] = schema_id
        return schema_id

    def lookup(
        self,
        subject: str,
        schema: str,
        normalize: bool = False,
        schema_type: str = "AVRO",
        references: list[Any] | None = None,
    ) -> dict[str, Any]:
        """POST /subjects/{subject}: the registered version of this schema ({"id", "version", ...})."""
        path = f"/subjects/{_q(subject)}" + ("?normalize=true" if normalize else "")
        body = _body(schema, schema_type)
        if references:
            body["references"] = references
        found = self._request("POST", path, body)
        self._ids[(subject, schema)] = int(found["id"])
        self._versions[(subject, int(found["id"]))] = int(found["version"])
        return found  # type: ignore[no-any-return]

    def id_of(self, subject: str, schema: str, normalize: bool = False, schema_type: str = "AVRO") -> int:
        """The id of an already registered schema (auto.register.schemas=false)."""
        schema_id = self._ids.get((subject, schema))
        if schema_id is not None:
            return schema_id
        return int(self.lookup(subject, schema, normalize, schema_type)["id"])

    def schema(self, schema_id: int) -> dict[str, Any]:
        found = self._schemas.get(schema_id)
        if found is None:
            found = self._schemas[schema_id] = self._request("GET", f"/schemas/ids/{schema_id}")
        return found

    def version_of(self, subject: str, schema_id: int, schema_type: str = "AVRO") -> int | None:
        """The version under `subject` of a schema read by id (None if it is not registered there)."""
        key = (subject, schema_id)
        if key not in self._versions:
            try:
                found = self.schema(schema_id)
                self.lookup(subject, found["schema"], schema_type=schema_type, references=found.get("references"))
            except RegistryClientError as e:
                if e.status != 404:
                    raise
                self._versions[key] = None  # type: ignore[assignment]
        return self._versions[key]

    def latest(self, subject: str) -> dict[str, Any]:
        found = self._latest.get(subject)
        if found is None:
            found = self._latest[subject] = self._request("GET", f"/subjects/{_q(subject)}/versions/latest")
            self._schemas.setdefault(int(found["id"]), found)
        return found

    def subject_version(self, subject: str, version: int) -> dict[str, Any]:
        """GET /subjects/{subject}/versions/{version}, cached (a registered version does not change)."""
        key = (subject, int(version))
        found = self._subject_versions.get(key)
        if found is None:
            found = self._subject_versions[key] = self._request("GET", f"/subjects/{_q(subject)}/versions/{key[1]}")
        return found

    def references(self, refs: list[Mapping[str, Any]]) -> list[str]:
        """The schema texts of references, depth first (referenced types before those using them)."""
        out: list[str] = []
        for r in refs:
            found = self.subject_version(str(r["subject"]), int(r["version"]))
            out += self.references(found.get("references") or [])
            out.append(found["schema"])
        return out

    def references_by_name(self, refs: list[Mapping[str, Any]]) -> dict[str, str]:
        """The schema texts of references and of theirs, by the names schemas refer to them with."""
        out: dict[str, str] = {}
        for r in refs:
            found = self.subject_version(str(r["subject"]), int(r["version"]))
            out.update(self.references_by_name(found.get("references") or []))
            out[str(r["name"])] = found["schema"]
        return out


def _body(schema: str, schema_type: str) -> dict[str, Any]:
    return {"schema": schema} if schema_type == "AVRO" else {"schema": schema, "schemaType": schema_type}


def _q(subject: str) -> str:
    return urllib.parse.quote(subject, safe="")
