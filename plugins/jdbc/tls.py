"""TLS settings of a JDBC URL mapped to the drivers' `ssl` argument, with the Java drivers' meanings.

PostgreSQL (pgjdbc): `sslmode` disable | allow | prefer | require | verify-ca | verify-full, `ssl=true` (verify-full
unless `sslfactory` is a NonValidatingFactory), `sslrootcert` (PEM or PKCS12; default ~/.postgresql/root.crt),
`sslcert` + `sslkey` (PEM, PKCS8 DER .pk8 as pgjdbc's default, or a PKCS12 .p12/.pfx in `sslkey`), `sslpassword`.
MySQL (Connector/J): `sslMode` DISABLED | PREFERRED | REQUIRED | VERIFY_CA | VERIFY_IDENTITY, legacy `useSSL` /
`verifyServerCertificate`, `trustCertificateKeyStoreUrl`/`Password`, `clientCertificateKeyStoreUrl`/`Password`.
MariaDB (Connector/J 3): `sslMode` disable | trust | verify-ca | verify-full, legacy `useSsl` /
`trustServerCertificate` / `disableSslHostnameVerification`, `serverSslCert` (file or PEM text), `keyStore` /
`keyStorePassword`. PREFERRED and prefer without a CA stay without TLS for MySQL (aiomysql cannot fall back).
Stores go through miniconnect.config.tls, so JKS is refused with the keytool command that converts it.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

from miniconnect.config.tls import client_context
from miniconnect.errors import ConfigError

from .url import JdbcUrl

_PG_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _file_url(value: str) -> str:
    return value[len("file:") :] if value.startswith("file:") else value


def _context(mode: str, props: dict[str, Any]) -> ssl.SSLContext:
    """mode "trust" (encrypt only), "verify-ca" or "verify-full"."""
    verify = mode != "trust"
    props = {**props, "ssl.endpoint.identification.algorithm": "https" if mode == "verify-full" else ""}
    if not verify:
        props = {k: v for k, v in props.items() if not k.startswith("ssl.truststore.")}
    ctx = client_context(props)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _pg_key(jdbc: JdbcUrl) -> dict[str, Any]:
    """pgjdbc's sslcert/sslkey/sslpassword as the ssl.keystore.* keys of config.tls."""
    cert, key, password = jdbc.param("sslcert"), jdbc.param("sslkey"), jdbc.param("sslpassword")
    if key and key.lower().endswith((".p12", ".pfx")):
        return {"ssl.keystore.location": key, "ssl.keystore.type": "PKCS12", "ssl.keystore.password": password}
    home = os.path.expanduser("~/.postgresql")
    cert = cert or (os.path.join(home, "postgresql.crt") if key else None)
    if not cert or not os.path.exists(cert):
        return {}
    key = key or os.path.join(home, "postgresql.pk8")
    try:
        with open(key, "rb") as f:
            key_data = f.read()
        with open(cert, encoding="utf-8") as f:
            chain = f.read()
    except OSError as e:
        raise ConfigError("connection.url", "[hidden]", f"Could not read the client certificate or key: {e}") from None
    if not key_data.lstrip().startswith(b"-----BEGIN"):  # pgjdbc's default: PKCS8 DER
        from cryptography.hazmat.primitives import serialization as s

        try:
            loaded = s.load_der_private_key(key_data, password.encode() if password else None)
        except (ValueError, TypeError) as e:
            raise ConfigError("connection.url", "[hidden]", f"Could not decrypt the SSL key file {key}: {e}") from None
        key_data, password = loaded.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()), None
    out = {"ssl.keystore.key": key_data.decode(), "ssl.keystore.certificate.chain": chain}
    if password:
        out["ssl.key.password"] = password
    return out


def pg_ssl(jdbc: JdbcUrl) -> Any:
    """asyncpg's `ssl`: None (its default, prefer), a libpq mode name, or an SSLContext."""
    mode = (jdbc.param("sslmode") or "").lower()
    if not mode and (jdbc.param("ssl") or "").lower() == "true":
        mode = "require" if "NonValidating" in (jdbc.param("sslfactory") or "") else "verify-full"
    if not mode:
        return None
    if mode not in _PG_MODES:
        raise ConfigError("connection.url", jdbc.redacted(), f"Invalid sslmode {mode}; one of {', '.join(_PG_MODES)}")
    if mode in ("disable", "allow", "prefer"):
        return mode
    props: dict[str, Any] = _pg_key(jdbc)
    root = jdbc.param("sslrootcert") or os.path.expanduser("~/.postgresql/root.crt")
    if mode != "require" and os.path.exists(root):
        props["ssl.truststore.location"] = root
        props["ssl.truststore.password"] = jdbc.param("sslpassword")
    return _context({"require": "trust"}.get(mode, mode), props)


def _mysql_mode(jdbc: JdbcUrl) -> str | None:
    """None (no TLS), "trust", "verify-ca" or "verify-full"."""
    mode = (jdbc.param("sslMode") or "").lower().replace("_", "-")
    if jdbc.scheme == "mariadb":
        if mode:
            return _lookup(
                jdbc, mode, {"disable": None, "trust": "trust", "verify-ca": "verify-ca", "verify-full": "verify-full"}
            )
        if (jdbc.param("useSsl") or jdbc.param("useSSL") or "").lower() != "true":
            return None
        if (jdbc.param("trustServerCertificate") or "").lower() == "true":
            return "trust"
        return "verify-ca" if (jdbc.param("disableSslHostnameVerification") or "").lower() == "true" else "verify-full"
    if mode:
        return _lookup(
            jdbc,
            mode,
            {
                "disabled": None,
                "preferred": None,
                "required": "trust",
                "verify-ca": "verify-ca",
                "verify-identity": "verify-full",
            },
        )
    if (jdbc.param("useSSL") or jdbc.param("useSsl") or "").lower() != "true":
        return None
    return "verify-ca" if (jdbc.param("verifyServerCertificate") or "").lower() == "true" else "trust"


def _lookup(jdbc: JdbcUrl, mode: str, modes: dict[str, str | None]) -> str | None:
    if mode not in modes:
        raise ConfigError("connection.url", jdbc.redacted(), f"Invalid sslMode {jdbc.param('sslMode')}")
    return modes[mode]


def mysql_ssl(jdbc: JdbcUrl) -> ssl.SSLContext | None:
    """aiomysql's `ssl`: None or an SSLContext."""
    mode = _mysql_mode(jdbc)
    if mode is None:
        return None
    props: dict[str, Any] = {}
    trust = jdbc.param("trustCertificateKeyStoreUrl")
    server_cert = jdbc.param("serverSslCert")
    if trust:
        props.update(
            {
                "ssl.truststore.location": _file_url(trust),
                "ssl.truststore.password": jdbc.param("trustCertificateKeyStorePassword"),
                "ssl.truststore.type": jdbc.param("trustCertificateKeyStoreType"),
            }
        )
    elif server_cert:
        key = "ssl.truststore.certificates" if "-----BEGIN" in server_cert else "ssl.truststore.location"
        props[key] = _file_url(server_cert)
    client = jdbc.param("clientCertificateKeyStoreUrl") or jdbc.param("keyStore")
    if client:
        password = jdbc.param("clientCertificateKeyStorePassword") or jdbc.param("keyStorePassword")
        props.update(
            {
                "ssl.keystore.location": _file_url(client),
                "ssl.keystore.password": password,
                "ssl.key.password": password,
            }
        )
    return _context(mode, props)
