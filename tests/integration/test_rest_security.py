"""The REST API over HTTPS with Kafka's BasicAuthSecurityRestExtension files (a JAAS file passed in KAFKA_OPTS naming
PropertyFileLoginModule and its users file): real worker processes reached with httpx and curl, with and without
credentials; client certificates (ssl.client.auth=required) with PEM keys given inline; JKS stores refused."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from servers.certs import STORE_PASSWORD, CertAuthority
from worker_process import WorkerProcess

from miniconnect.config.tls import client_context, server_context
from miniconnect.errors import ConfigError

EXTENSION = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
JAAS = """KafkaConnect {
  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required
  file="%s";
};
"""
DENIED = "User cannot access the resource."


def _write_auth_files(tmp_path: Path) -> Path:
    users = tmp_path / "connect.password"
    users.write_text("# user: password, as in Kafka's docs\nadmin: admin-secret\nbob=b0b pw\n")
    jaas = tmp_path / "connect_jaas.conf"
    jaas.write_text(JAAS % users)
    return jaas


def test_https_basic_auth_pkcs12(tmp_path: Path) -> None:
    ca = CertAuthority(tmp_path / "ca")
    server = ca.issue("worker")
    jaas = _write_auth_files(tmp_path)
    worker = WorkerProcess(
        tmp_path,
        {
            "listeners.https.ssl.keystore.location": str(server.p12),
            "listeners.https.ssl.keystore.password": STORE_PASSWORD,
            "listeners.https.ssl.keystore.type": "PKCS12",
            "rest.extension.classes": EXTENSION,
        },
        scheme="https",
        client={"verify": _ca_ctx(ca.cert_pem), "auth": ("admin", "admin-secret")},
        env={"KAFKA_OPTS": f"-Xmx256m -Djava.security.auth.login.config={jaas}"},
    )
    worker.start()
    try:
        assert worker.rest("GET", "/").json()["version"]
        assert worker.rest("GET", "/connectors").json() == []
        verify = {"verify": _ca_ctx(ca.cert_pem)}
        for auth in (None, ("admin", "wrong"), ("nobody", "admin-secret")):
            r = httpx.get(worker.url + "/connectors", auth=auth, timeout=10, **verify)
            # as Apache Kafka Connect 4.1's JVM worker answers (checked with its basic-auth-extension jar)
            assert (r.status_code, r.text, r.headers["content-type"]) == (401, DENIED, "application/json")
        r = httpx.post(worker.url + "/connectors/x/tasks", json=[], timeout=10, **verify)  # internal: not checked
        assert r.json() == {
            "error_code": 500,
            "message": "Kafka Connect in standalone mode does not support externally setting task configurations.",
        }
        r = httpx.get(worker.url + "/connectors", headers={"Authorization": "Basic !!notbase64"}, timeout=10, **verify)
        assert r.status_code == 401
        assert httpx.get(worker.url + "/", auth=("bob", "b0b pw"), timeout=10, **verify).status_code == 200
        with pytest.raises(httpx.ConnectError):  # the certificate is not trusted without the CA
            httpx.get(worker.url + "/", auth=("admin", "admin-secret"), timeout=10)
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the HTTPS port
            httpx.get(worker.url.replace("https:", "http:") + "/", timeout=10)
        curl = shutil.which("curl")
        if curl:

            def run(*args: str) -> tuple[str, str]:
                out = subprocess.run(
                    [
                        curl,
                        "-s",
                        "--cacert",
                        str(ca.cert_pem),
                        "-w",
                        "\n%{http_code}",
                        *args,
                        worker.url + "/connectors",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=30,
                )
                body, _, code = out.stdout.rpartition("\n")
                return code, body

            assert run() == ("401", DENIED)
            assert run("-u", "admin:nope") == ("401", DENIED)
            assert run("-u", "admin:admin-secret") == ("200", "[]")
    finally:
        worker.stop()


def test_https_client_certificates_pem_inline(tmp_path: Path) -> None:
    ca = CertAuthority(tmp_path / "ca")
    server, client = ca.issue("worker"), ca.issue("client")
    worker = WorkerProcess(
        tmp_path,
        {
            "ssl.keystore.type": "PEM",
            "ssl.keystore.key": server.key_pem.read_text().replace("\n", "\\n"),
            "ssl.keystore.certificate.chain": server.chain_pem.read_text().replace("\n", "\\n"),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(ca.cert_pem),
            "ssl.client.auth": "required",
        },
        scheme="https",
        client={"verify": _client_ctx(ca.cert_pem, client.chain_pem, client.key_pem)},
    )
    worker.start()
    try:
        assert worker.rest("GET", "/").status_code == 200
        with pytest.raises(httpx.HTTPError):  # no client certificate
            httpx.get(worker.url + "/", verify=_ca_ctx(ca.cert_pem), timeout=10)
    finally:
        worker.stop()
    assert "REST server listening at https://127.0.0.1:" in worker.log()


def _ca_ctx(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def _client_ctx(ca: Path, chain: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(chain), str(key))
    return ctx


def test_jks_refused_with_the_keytool_command(tmp_path: Path) -> None:
    jks = tmp_path / "server.jks"
    jks.write_bytes(b"\xfe\xed\xfe\xed" + b"\0" * 64)
    with pytest.raises(
        ConfigError,
        match=r"is a JKS keystore.*keytool -importkeystore -srckeystore .*server.jks "
        r"-srcstoretype JKS -destkeystore .*server.jks.p12 -deststoretype PKCS12",
    ):
        server_context({"ssl.keystore.location": str(jks), "ssl.keystore.password": "x"})
    with pytest.raises(ConfigError, match="is a JKS truststore"):
        client_context({"ssl.truststore.location": str(jks), "ssl.truststore.type": "JKS"})


def test_keystore_wrong_password_and_missing_keystore(tmp_path: Path) -> None:
    ca = CertAuthority(tmp_path / "ca")
    server = ca.issue("worker")
    with pytest.raises(ConfigError, match="wrong password"):
        server_context({"ssl.keystore.location": str(server.p12), "ssl.keystore.password": "nope"})
    with pytest.raises(ConfigError, match="An https listener needs a keystore"):
        server_context({})
    ctx = client_context({"ssl.truststore.location": str(ca.truststore_p12), "ssl.truststore.password": STORE_PASSWORD})
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert not client_context({"ssl.endpoint.identification.algorithm": ""}).check_hostname
