"""JDBC URL TLS parameters against a PostgreSQL server with ssl=on (servers/postgres.py, tls=True; its certificate
names 127.0.0.1 only): pgjdbc's sslmode / ssl / sslrootcert / sslcert / sslkey / sslpassword reach asyncpg with the
Java driver's meaning, and a JDBC source -> sink pipeline through a real worker runs over verify-full with its
password from `${file:...}`."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from helpers.source_e2e import sql
from miniconnect_plugins.jdbc.connection import close_connection, open_connection
from miniconnect_plugins.jdbc.url import parse_jdbc_url
from servers import DbServer
from servers.certs import STORE_PASSWORD, CertAuthority
from servers.postgres import CERT_USER
from worker_process import WorkerProcess

from miniconnect.errors import ConnectError

session_loop = pytest.mark.asyncio(loop_scope="session")


async def _ssl_in_use(url: str, user: str | None, password: str | None) -> bool:
    conn = await open_connection(parse_jdbc_url(url, user, password), attempts=1)
    try:
        if url.startswith("jdbc:postgresql"):
            return await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        async with conn.cursor() as cur:
            await cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            return bool((await cur.fetchone())[1])
    finally:
        await close_connection(conn)


@session_loop
async def test_pgjdbc_ssl_parameters(pg_tls, tmp_path: Path) -> None:
    db: DbServer = pg_tls.server
    ca = pg_tls.ca.cert_pem
    base = f"jdbc:postgresql://127.0.0.1:{db.port}/{db.database}"
    by_name = f"jdbc:postgresql://localhost:{db.port}/{db.database}"
    pw = (db.user, db.password)
    assert await _ssl_in_use(f"{base}?sslmode=verify-full&sslrootcert={ca}", *pw)
    assert await _ssl_in_use(f"{base}?ssl=true&sslrootcert={ca}", *pw)
    assert await _ssl_in_use(f"{by_name}?sslmode=verify-ca&sslrootcert={ca}", *pw)  # no host name check
    assert await _ssl_in_use(f"{by_name}?sslmode=require", *pw)  # encrypted, nothing verified
    assert not await _ssl_in_use(f"{base}?sslmode=disable", *pw)
    with pytest.raises(ConnectError, match="(?i)certificate|hostname"):  # the certificate names 127.0.0.1 only
        await _ssl_in_use(f"{by_name}?sslmode=verify-full&sslrootcert={ca}", *pw)
    other = CertAuthority(tmp_path / "other-ca", "some other CA")
    with pytest.raises(ConnectError, match="(?i)certificate"):
        await _ssl_in_use(f"{base}?sslmode=verify-full&sslrootcert={other.cert_pem}", *pw)

    # client certificates: the role mc_cert logs in by certificate (pg_hba `cert`), without a password
    client = pg_tls.client
    key_der = tmp_path / "client.pk8"  # pgjdbc's default key form: encrypted PKCS8 DER
    key = serialization.load_pem_private_key(client.key_pem.read_bytes(), None)
    key_der.write_bytes(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"k3y-pw"),
        )
    )
    verify = f"{base}?sslmode=verify-full&sslrootcert={ca}"
    assert await _ssl_in_use(f"{verify}&sslcert={client.cert_pem}&sslkey={client.key_pem}", CERT_USER, None)
    assert await _ssl_in_use(f"{verify}&sslcert={client.cert_pem}&sslkey={key_der}&sslpassword=k3y-pw", CERT_USER, None)
    assert await _ssl_in_use(f"{verify}&sslkey={client.p12}&sslpassword={STORE_PASSWORD}", CERT_USER, None)
    with pytest.raises(ConnectError):  # no certificate: pg_hba refuses mc_cert
        await _ssl_in_use(verify, CERT_USER, None)


@session_loop
async def test_mysql_and_mariadb_ssl_parameters(mysql_tls, tmp_path: Path) -> None:
    db: DbServer = mysql_tls.server
    ca, ca_p12 = mysql_tls.ca.cert_pem, mysql_tls.ca.truststore_p12
    pw = (db.user, db.password)
    for scheme in ("mysql", "mariadb"):
        base = f"jdbc:{scheme}://127.0.0.1:{db.port}/{db.database}"
        assert not await _ssl_in_use(base, *pw)
        assert not await _ssl_in_use(
            f"{base}?sslMode=DISABLED" if scheme == "mysql" else f"{base}?sslMode=disable", *pw
        )
    mysql = f"jdbc:mysql://127.0.0.1:{db.port}/{db.database}"
    mysql_by_name = f"jdbc:mysql://localhost:{db.port}/{db.database}"
    trust = f"trustCertificateKeyStoreUrl=file:{ca_p12}&trustCertificateKeyStorePassword={STORE_PASSWORD}"
    assert await _ssl_in_use(f"{mysql}?sslMode=REQUIRED", *pw)
    assert await _ssl_in_use(f"{mysql}?useSSL=true", *pw)
    assert await _ssl_in_use(f"{mysql}?sslMode=VERIFY_IDENTITY&{trust}", *pw)
    assert await _ssl_in_use(f"{mysql_by_name}?sslMode=VERIFY_CA&{trust}", *pw)
    client = mysql_tls.client
    assert await _ssl_in_use(
        f"{mysql}?sslMode=VERIFY_IDENTITY&{trust}&clientCertificateKeyStoreUrl=file:{client.p12}"
        f"&clientCertificateKeyStorePassword={STORE_PASSWORD}",
        *pw,
    )
    with pytest.raises(ConnectError, match="(?i)certificate|hostname"):
        await _ssl_in_use(f"{mysql_by_name}?sslMode=VERIFY_IDENTITY&{trust}", *pw)
    mariadb = f"jdbc:mariadb://127.0.0.1:{db.port}/{db.database}"
    mariadb_by_name = f"jdbc:mariadb://localhost:{db.port}/{db.database}"
    assert await _ssl_in_use(f"{mariadb}?sslMode=verify-full&serverSslCert={ca}", *pw)
    assert await _ssl_in_use(f"{mariadb_by_name}?sslMode=trust", *pw)
    assert await _ssl_in_use(f"{mariadb_by_name}?useSsl=true&trustServerCertificate=true", *pw)
    assert await _ssl_in_use(f"{mariadb_by_name}?sslMode=verify-ca&serverSslCert={ca}", *pw)
    with pytest.raises(ConnectError, match="(?i)certificate|hostname"):
        await _ssl_in_use(f"{mariadb_by_name}?useSsl=true&serverSslCert={ca}", *pw)
    other = CertAuthority(tmp_path / "other-ca", "some other CA")
    with pytest.raises(ConnectError, match="(?i)certificate"):
        await _ssl_in_use(f"{mariadb}?sslMode=verify-full&serverSslCert={other.cert_pem}", *pw)


def test_jdbc_pipeline_over_verify_full(pg_tls, tmp_path: Path) -> None:
    db: DbServer = pg_tls.server
    name = f"t_{uuid.uuid4().hex[:10]}"
    sql(db, f"CREATE DATABASE {name}")
    db = db.with_database(name)
    sql(db, "CREATE TABLE src (id serial PRIMARY KEY, name text NOT NULL)")
    secrets = tmp_path / "db.properties"
    secrets.write_text(f"password={db.password}\n")
    url = f"jdbc:postgresql://127.0.0.1:{db.port}/{name}?sslmode=verify-full&sslrootcert={pg_tls.ca.cert_pem}"
    common = {"connection.url": url, "connection.user": db.user, "connection.password": f"${{file:{secrets}:password}}"}
    worker = WorkerProcess(
        tmp_path,
        {
            "config.providers": "file",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        },
    )
    worker.start()
    try:
        for connector, config in (
            (
                "src",
                {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
                    "mode": "incrementing",
                    "incrementing.column.name": "id",
                    "table.whitelist": "src",
                    "topic.prefix": "tls_",
                    "poll.interval.ms": "200",
                    **common,
                },
            ),
            (
                "dst",
                {
                    "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
                    "topics": "tls_src",
                    "auto.create": "true",
                    "table.name.format": "dst",
                    **common,
                },
            ),
        ):
            assert worker.rest("PUT", f"/connectors/{connector}/config", config).status_code == 201
        sql(db, "INSERT INTO src (name) SELECT 'r' || g FROM generate_series(1, 5) g")
        worker.wait_for(
            lambda: (
                sql(db, "SELECT to_regclass('dst') IS NOT NULL")[0][0]
                and sql(db, "SELECT count(*) FROM dst")[0][0] == 5
            ),
            60,
            "5 rows in dst",
        )
        sessions = sql(
            db,
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
            f"WHERE a.datname = '{name}' AND a.pid <> pg_backend_pid()",
        )
        assert sessions and all(ssl for (ssl,) in sessions)  # the worker's sessions are all encrypted
    finally:
        worker.stop()
        sql(pg_tls.server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
