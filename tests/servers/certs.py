"""A throwaway certificate authority for TLS tests: a CA, and certificates it signs for 127.0.0.1/localhost,
written as PEM files and PKCS12 stores (the shapes a Java Kafka or Connect setup uses) in a temp dir."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

STORE_PASSWORD = "store-pass-1"


@dataclass(frozen=True)
class Identity:
    """One signed certificate and where its forms are written."""

    cert_pem: Path  # the certificate
    key_pem: Path  # its unencrypted private key (PKCS8)
    chain_pem: Path  # certificate then CA
    p12: Path  # key + certificate + CA, password STORE_PASSWORD


class CertAuthority:
    def __init__(self, directory: Path, name: str = "miniconnect test CA"):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_pem = self.dir / "ca.pem"
        self.cert_pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.truststore_p12 = self.dir / "truststore.p12"
        self.truststore_p12.write_bytes(
            pkcs12.serialize_key_and_certificates(
                None, None, None, [self.cert], serialization.BestAvailableEncryption(STORE_PASSWORD.encode())
            )
        )

    def issue(self, name: str, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Identity:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        sans: list[x509.GeneralName] = []
        for h in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM)
        ident = Identity(
            self.dir / f"{name}.pem", self.dir / f"{name}.key", self.dir / f"{name}-chain.pem", self.dir / f"{name}.p12"
        )
        ident.cert_pem.write_bytes(pem)
        ident.key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        ident.chain_pem.write_bytes(pem + self.cert_pem.read_bytes())
        ident.p12.write_bytes(
            pkcs12.serialize_key_and_certificates(
                name.encode(), key, cert, [self.cert], serialization.BestAvailableEncryption(STORE_PASSWORD.encode())
            )
        )
        return ident
