"""Signing of inter-worker requests with the session key (KIP-507), as Kafka's InternalRequestSignature does it.

The signature is the HMAC of the request body under the session key, base64 in `X-Connect-Authorization`, with
the JCA name of the MAC in `X-Connect-Request-Signature-Algorithm`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from ..errors import BadRequest, ConnectError, Forbidden
from .state import SessionKey

SIGNATURE_HEADER = "X-Connect-Authorization"
SIGNATURE_ALGORITHM_HEADER = "X-Connect-Request-Signature-Algorithm"
MACS = {
    "HmacSHA1": hashlib.sha1,
    "HmacSHA224": hashlib.sha224,
    "HmacSHA256": hashlib.sha256,
    "HmacSHA384": hashlib.sha384,
    "HmacSHA512": hashlib.sha512,
    "HmacMD5": hashlib.md5,
}
# javax.crypto.KeyGenerator's default key size (bytes) per algorithm, used when inter.worker.key.size is unset
DEFAULT_KEY_BYTES = {
    "HmacSHA1": 64,
    "HmacSHA224": 28,
    "HmacSHA256": 32,
    "HmacSHA384": 48,
    "HmacSHA512": 64,
    "HmacMD5": 64,
}


def new_session_key(algorithm: str, size_bits: int | None, now_ms: int) -> SessionKey:
    size = size_bits // 8 if size_bits else DEFAULT_KEY_BYTES.get(algorithm, 32)
    return SessionKey(os.urandom(size), algorithm, now_ms)


def key_bytes(algorithm: str, size_bits: int | None) -> int:
    return size_bits // 8 if size_bits else DEFAULT_KEY_BYTES.get(algorithm, 32)


def _mac(key: bytes, algorithm: str, body: bytes) -> bytes:
    digest = MACS.get(algorithm)
    if digest is None:
        raise ConnectError(f"Algorithm {algorithm} not available")
    return hmac.new(key, body, digest).digest()


def signature_headers(key: bytes, algorithm: str, body: bytes | None) -> dict[str, str]:
    """InternalRequestSignature.addToRequest."""
    return {
        SIGNATURE_HEADER: base64.b64encode(_mac(key, algorithm, body or b"")).decode(),
        SIGNATURE_ALGORITHM_HEADER: algorithm,
    }


def check_signature(key: bytes, algorithm: str, signature: str, body: bytes) -> None:
    """InternalRequestSignature.fromHeaders + isValid: 400 for an undecodable signature, 403 for a wrong one."""
    if algorithm not in MACS:
        raise BadRequest(f"Algorithm {algorithm} not available")
    try:
        given = base64.b64decode(signature, validate=True)
    except ValueError as e:
        raise BadRequest(str(e)) from e
    if not hmac.compare_digest(_mac(key, algorithm, body), given):
        raise Forbidden("Internal request contained invalid signature.")
