"""SSL contexts from Kafka's `ssl.*` keys (for the REST listeners and the Kafka clients): PKCS12 and PEM key and
trust stores (files, or PEM text in `ssl.keystore.key` / `ssl.keystore.certificate.chain` /
`ssl.truststore.certificates`), `ssl.client.auth`, `ssl.endpoint.identification.algorithm`,
`ssl.enabled.protocols`. JKS stores are refused with the keytool command that converts them."""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

_JKS_MAGIC = (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce")  # JKS, JCEKS
_VERSIONS = {
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1": ssl.TLSVersion.TLSv1,
}
CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def with_prefix_all_or_nothing(props: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Kafka's AbstractConfig.valuesWithPrefixAllOrNothing: the `prefix`ed keys (prefix removed) when there is
    any, else the unprefixed ones."""
    prefixed = {k[len(prefix) :]: v for k, v in props.items() if k.startswith(prefix)}
    return prefixed if prefixed else dict(props)


def _s(props: Mapping[str, Any], key: str) -> str | None:
    v = props.get(key)
    if v is None:
        return None
    v = str(getattr(v, "value", v))
    return v if v.strip() else None


def _read(location: str, key: str) -> bytes:
    try:
        with open(location, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(key, location, f"Failed to load SSL keystore: {e.strerror or e}") from None


def _refuse_jks(data: bytes, location: str, store: str) -> None:
    if data[:4] in _JKS_MAGIC:
        raise ConfigError(
            f"ssl.{store}.location",
            location,
            f"{location} is a JKS {store}, which miniconnect cannot read. Convert it to PKCS12 with: "
            f"keytool -importkeystore -srckeystore {location} -srcstoretype JKS -destkeystore "
            f"{location}.p12 -deststoretype PKCS12 ; then set ssl.{store}.type=PKCS12 and "
            f"ssl.{store}.location={location}.p12",
        )


def _is_pem(data: bytes, store_type: str | None) -> bool:
    return (store_type or "").upper() == "PEM" or data.lstrip().startswith(b"-----BEGIN")


def _load_pkcs12(data: bytes, password: str | None, key: str) -> Any:
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        return pkcs12.load_pkcs12(data, password.encode() if password else None)
    except ValueError as e:
        raise ConfigError(key, "[hidden]", f"Failed to load the PKCS12 store (wrong password?): {e}") from None


def _pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM)


def trusted_pem(props: Mapping[str, Any]) -> str | None:
    """The trusted certificates of `ssl.truststore.*` as PEM text, or None to use the system's."""
    inline = _s(props, "ssl.truststore.certificates")
    if inline:
        return inline
    location = _s(props, "ssl.truststore.location")
    if not location:
        return None
    data = _read(location, "ssl.truststore.location")
    _refuse_jks(data, location, "truststore")
    if _is_pem(data, _s(props, "ssl.truststore.type")):
        return data.decode()
    p12 = _load_pkcs12(data, _s(props, "ssl.truststore.password"), "ssl.truststore.password")
    certs = ([p12.cert.certificate] if p12.cert else []) + [c.certificate for c in p12.additional_certs]
    return b"".join(_pem(c) for c in certs).decode()


def _load_keystore(ctx: ssl.SSLContext, props: Mapping[str, Any]) -> bool:
    """Loads the key and its certificate chain; False when no keystore is configured."""
    key_password = _s(props, "ssl.key.password")
    key_pem, chain_pem = _s(props, "ssl.keystore.key"), _s(props, "ssl.keystore.certificate.chain")
    location = _s(props, "ssl.keystore.location")
    if key_pem and chain_pem:
        pem = (key_pem.strip() + "\n" + chain_pem.strip() + "\n").encode()
    elif location:
        data = _read(location, "ssl.keystore.location")
        _refuse_jks(data, location, "keystore")
        if _is_pem(data, _s(props, "ssl.keystore.type")):
            pem = data
        else:
            from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

            p12 = _load_pkcs12(data, _s(props, "ssl.keystore.password"), "ssl.keystore.password")
            if p12.key is None or p12.cert is None:
                raise ConfigError("ssl.keystore.location", location, "The PKCS12 keystore holds no private key")
            pem = p12.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()) + _pem(p12.cert.certificate)
            pem += b"".join(_pem(c.certificate) for c in p12.additional_certs)
            key_password = None
    else:
        return False
    # The ssl module reads keys from files only: a private temp file, removed at once.
    with tempfile.TemporaryDirectory(prefix="miniconnect-tls-") as d:
        path = os.path.join(d, "key.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            ctx.load_cert_chain(path, password=key_password)
        except (ssl.SSLError, ValueError) as e:
            raise ConfigError(
                "ssl.keystore.location", location or "[PEM]", f"Failed to load the key and certificate chain: {e}"
            ) from None
    return True


def _protocols(ctx: ssl.SSLContext, props: Mapping[str, Any]) -> None:
    enabled = _s(props, "ssl.enabled.protocols")
    if not enabled:
        return
    versions = [_VERSIONS[p.strip()] for p in enabled.split(",") if p.strip() in _VERSIONS]
    if not versions:
        raise ConfigError("ssl.enabled.protocols", enabled, "No supported protocol (TLSv1.2, TLSv1.3)")
    ctx.minimum_version, ctx.maximum_version = min(versions), max(versions)


def _trust(ctx: ssl.SSLContext, props: Mapping[str, Any]) -> None:
    pem = trusted_pem(props)
    if pem is None:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH if ctx.check_hostname else ssl.Purpose.CLIENT_AUTH)
    else:
        ctx.load_verify_locations(cadata=pem)


def server_context(props: Mapping[str, Any]) -> ssl.SSLContext:
    """An HTTPS listener's context: keystore required, client certificates per `ssl.client.auth`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _protocols(ctx, props)
    if not _load_keystore(ctx, props):
        raise ConfigError(
            message="An https listener needs a keystore: set ssl.keystore.location (PKCS12 or PEM) or "
            "ssl.keystore.key and ssl.keystore.certificate.chain"
        )
    auth = (_s(props, "ssl.client.auth") or "none").lower()
    if auth not in CLIENT_AUTH:
        raise ConfigError("ssl.client.auth", auth, "String must be one of: required, requested, none")
    ctx.verify_mode = CLIENT_AUTH[auth]
    if auth != "none":
        _trust(ctx, props)
    return ctx


def client_context(props: Mapping[str, Any]) -> ssl.SSLContext:
    """A client's context: trust from `ssl.truststore.*` (else the system's), a keystore for mutual TLS, the host
    name checked unless `ssl.endpoint.identification.algorithm` is empty (Kafka's default is https)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _protocols(ctx, props)
    algorithm = props.get("ssl.endpoint.identification.algorithm", "https")
    ctx.check_hostname = bool(algorithm and str(algorithm).strip())
    ctx.verify_mode = ssl.CERT_REQUIRED
    _trust(ctx, props)
    _load_keystore(ctx, props)
    return ctx
