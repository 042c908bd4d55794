"""HTTP Basic authentication configured like Kafka's BasicAuthSecurityRestExtension: `rest.extension.classes` names
it, the JAAS file (`java.security.auth.login.config`, or `-Djava.security.auth.login.config=` in KAFKA_OPTS) has a
`KafkaConnect` section naming PropertyFileLoginModule with `file=` a properties file of `user: password` lines.
The same files a JVM worker uses work here (Kafka's JaasBasicAuthFilter and PropertyFileLoginModule)."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..config.jaas import LoginModule, login_config_path, parse_login_file
from ..config.properties import load_properties
from ..errors import ConfigError

log = logging.getLogger(__name__)

EXTENSION = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
LOGIN_MODULE = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
SECTION = "KafkaConnect"
UNAUTHORIZED_BODY = b"User cannot access the resource."
# Requests between workers that carry their own signature, not user credentials (JaasBasicAuthFilter).
_INTERNAL = [("POST", re.compile(r"/?connectors/([^/]+)/tasks/?")), ("PUT", re.compile(r"/?connectors/[^/]+/fence/?"))]


def _credentials(header: str | None) -> tuple[str | None, str | None]:
    """BasicAuthCredentials: (username, password), (None, None) when missing or malformed."""
    if not header:
        return None, None
    method, space, encoded = header.partition(" ")
    if not space or not method or method.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon and user else (None, None)


class PropertyFileLogin:
    """One PropertyFileLoginModule: its users file read once (Kafka caches it for the process)."""

    def __init__(self, module: LoginModule):
        path = module.options.get("file", "")
        if not path.strip():
            raise ConfigError(message="Property Credentials file must be specified")
        try:
            self.users = load_properties(path)
        except OSError as e:
            raise ConfigError(message=f"Error loading Property Credentials file {path}: {e}") from None
        self.flag = module.flag
        if not self.users:
            log.warning("Credential properties file '%s' is empty; all requests will be permitted", path)

    def login(self, user: str | None, password: str | None) -> bool:
        if not self.users:
            return True
        return user is not None and password is not None and self.users.get(user) == password


class BasicAuth:
    """The JAAS `KafkaConnect` entry: required/requisite modules must all pass; without any, one
    sufficient/optional module must."""

    def __init__(self, modules: list[PropertyFileLogin]):
        self.modules = modules

    @classmethod
    def from_jaas(cls, worker_props: dict[str, Any]) -> BasicAuth:
        path = login_config_path(worker_props)
        if not path:
            raise ConfigError(
                message=f"{EXTENSION} needs a JAAS file: set java.security.auth.login.config in the "
                f"worker properties or -Djava.security.auth.login.config=<file> in KAFKA_OPTS"
            )
        try:
            with open(path, encoding="utf-8") as f:
                sections = parse_login_file(f.read())
        except OSError as e:
            raise ConfigError(message=f"Failed to retrieve JAAS configuration from {path}: {e}") from None
        modules = sections.get(SECTION)
        if not modules:
            raise ConfigError(message=f"No LoginModules configured for {SECTION} in {path}")
        for m in modules:
            if m.name != LOGIN_MODULE:
                raise ConfigError(
                    message=f"Unsupported login module {m.name} in the {SECTION} section of {path}; "
                    f"miniconnect supports {LOGIN_MODULE}"
                )
        return cls([PropertyFileLogin(m) for m in modules])

    def authenticate(self, user: str | None, password: str | None) -> bool:
        results = [(m.flag, m.login(user, password)) for m in self.modules]
        strict = [ok for flag, ok in results if flag in ("required", "requisite")]
        if strict:
            return all(strict)
        return any(ok for _, ok in results)


def rest_extensions(config: Any) -> BasicAuth | None:
    """The authentication `rest.extension.classes` asks for (only the basic auth extension is known)."""
    classes = config.get("rest.extension.classes") or []
    if isinstance(classes, str):
        classes = [c.strip() for c in classes.split(",") if c.strip()]
    auth = None
    for name in classes:
        if name in (EXTENSION, EXTENSION.rsplit(".", 1)[-1]):
            auth = BasicAuth.from_jaas(dict(getattr(config, "originals", config)))
        else:
            raise ConfigError(
                "rest.extension.classes", name, f"Class {name} could not be found; miniconnect knows {EXTENSION}"
            )
    return auth


class BasicAuthMiddleware:
    """JaasBasicAuthFilter: 401 `User cannot access the resource.` unless the credentials pass."""

    def __init__(self, app: ASGIApp, auth: BasicAuth):
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._internal(scope):
            return await self.app(scope, receive, send)
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
        if self.auth.authenticate(*_credentials(header)):
            scope["user"] = _credentials(header)[0]
            return await self.app(scope, receive, send)
        log.debug("Request failed authentication")
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                # Kafka 4.1 answers exactly so: the bare text, labelled application/json
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(UNAUTHORIZED_BODY)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": UNAUTHORIZED_BODY})

    @staticmethod
    def _internal(scope: Scope) -> bool:
        path = scope["path"]
        return any(scope["method"] == m and p.fullmatch(path) for m, p in _INTERNAL)
