"""Secrets never printed: passwords in URLs are shown as `[hidden]`, and the values of PASSWORD-type keys a running
connector was given are masked in every log line, trace and error message of this process (a net behind the
places that already print `[hidden]`, for drivers that echo what they were given)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

HIDDEN = "[hidden]"
_URL_SECRET_PARAMS = (
    "password",
    "sslpassword",
    "trustcertificatekeystorepassword",
    "clientcertificatekeystorepassword",
    "keystorepassword",
    "truststorepassword",
    "sslkeypassword",
    "ssl.key.password",
)
_PARAM_SECRET = re.compile(
    r"([?&;](?:" + "|".join(re.escape(p) for p in _URL_SECRET_PARAMS) + r")=)([^&;\s\"']*)", re.I
)
_USERINFO = re.compile(r"(//[^/@?\s\"']*?:)([^/@?\s\"']+)(@)")
_MIN_LENGTH = 6  # shorter values ("test", "root") would mask ordinary words
# Kafka clients' PASSWORD-type keys (every client's in config/kafka_keys.json, a test checks), also under
# producer./consumer./admin. and the connectors' *.override. prefixes; and the Schema Registry client's credentials
CLIENT_PASSWORD_KEYS = (
    "sasl.jaas.config",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.client.credentials.client.secret",
    "ssl.key.password",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.keystore.password",
    "ssl.truststore.certificates",
    "ssl.truststore.password",
    "basic.auth.user.info",
)

_lock = threading.Lock()
_known: set[str] = set()
_pattern: re.Pattern[str] | None = None


def redact_url(text: str) -> str:
    """The text with every URL password (`password=` parameters, `user:password@`) replaced by [hidden]."""
    if not text or ("=" not in text and "@" not in text):
        return text or ""
    return _USERINFO.sub(rf"\g<1>{HIDDEN}\g<3>", _PARAM_SECRET.sub(rf"\g<1>{HIDDEN}", text))


def url_passwords(text: str) -> list[str]:
    if not isinstance(text, str):
        return []
    return [m.group(2) for m in _PARAM_SECRET.finditer(text)] + [m.group(2) for m in _USERINFO.finditer(text)]


def remember(values: Iterable[str]) -> None:
    """Adds secret values to mask from now on in this process."""
    global _pattern
    new = {v for v in values if isinstance(v, str) and len(v) >= _MIN_LENGTH and v != HIDDEN} - _known
    if not new:
        return
    with _lock:
        _known.update(new)
        alternatives = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in alternatives))


def remember_config(config: Mapping[str, Any], password_keys: Iterable[str] = ()) -> None:
    """Remembers the values of a config's PASSWORD-type keys (those named, and Kafka clients' own under any
    prefix) and the passwords written in its URLs."""
    keys = set(password_keys) | {k for k in config if k.endswith(CLIENT_PASSWORD_KEYS)}
    values: list[str] = [str(getattr(config[k], "value", config[k])) for k in keys if config.get(k) is not None]
    for value in config.values():
        values.extend(url_passwords(value))
    remember(values)


def mask(text: str) -> str:
    """The text with URL passwords and every remembered secret replaced by [hidden]."""
    if not text:
        return text
    text = redact_url(text)
    pattern = _pattern
    return pattern.sub(HIDDEN, text) if pattern is not None else text


class MaskingFilter(logging.Filter):
    """Attached to log handlers: the record's message and traceback are masked before any formatter sees them."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(self._formatter.formatException(record.exc_info))
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Masks secrets in everything the logger's handlers (the root logger's by default) write."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
