"""HTTP-level behaviour: routing on raw paths, framework errors, body errors, OPTIONS/HEAD, CORS, headers,
admin listeners, root, health, plugins and loggers."""

from __future__ import annotations

import logging
from pathlib import Path

from rest_testkit import rest_env, source_config


def err(code: int, message: str) -> dict:
    return {"error_code": code, "message": message}


async def test_framework_errors_and_paths(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.get("/nope")
        assert (r.status_code, r.json()) == (404, err(404, "HTTP 404 Not Found"))
        r = await c.get("/connectors/x/restart")
        assert (r.status_code, r.json()) == (405, err(405, "HTTP 405 Method Not Allowed"))
        assert "allow" not in r.headers
        r = await c.post(
            "/connectors", content=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert r.json() == err(415, "HTTP 415 Unsupported Media Type")
        r = await c.post("/connectors", content=b'{"name":"x"}')
        assert r.json() == err(415, "HTTP 415 Unsupported Media Type")
        r = await c.put("/connectors/x/pause", headers={"Content-Type": "text/plain"})
        assert r.status_code == 415
        r = await c.get("/connectors", headers={"Accept": "text/html"})
        assert r.json() == err(406, "HTTP 406 Not Acceptable")
        assert (await c.get("/connectors", headers={"Accept": "text/html,*/*;q=0.8"})).status_code == 200
        # trailing slash ignored; names with any character, '/' percent-encoded
        assert (await c.get("/connectors/")).json() == []
        name = "a/b c?d#e%f+g\u00e9"
        r = await c.post("/connectors", json={"name": name, "config": source_config()})
        assert r.status_code == 201
        assert r.headers["location"] == "http://testserver/connectors/a/b%20c%3Fd%23e%25f+g%C3%A9"
        # Connect 4.x's Jetty refuses an encoded '/' or '%' in a path (400); here such a name stays addressable
        r = await c.get("/connectors/a%2Fb%20c%3Fd%23e%25f%2Bg%C3%A9/config/")
        assert r.status_code == 200 and r.json()["name"] == name
        assert (await c.get("/connectors/a/b%20c%3Fd%23e%25f%2Bg%C3%A9")).status_code == 404
        name = "b c?d#e+f;g\u00e9"
        assert (await c.post("/connectors", json={"name": name, "config": source_config()})).status_code == 201
        r = await c.get("/connectors/b%20c%3Fd%23e%2Bf%3Bg%C3%A9/config/")
        assert r.status_code == 200 and r.json()["name"] == name
        r = await c.get("/connectors/b%20c%3Fd%23e%2Bf%3Bg%C3%A9;matrix=1/config")  # matrix parameters are ignored
        assert r.status_code == 200 and r.json()["name"] == name
        assert (await c.get("/connectors//status")).status_code == 404


async def test_body_errors_are_400_with_position(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.post(
            "/connectors", content=b'{\n  "name": "x",\n  "config" {}}', headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400
        assert r.json()["message"].startswith("Invalid JSON in request body at line 3, column 12: ")
        r = await c.put("/connectors/x/config", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "empty" in r.json()["message"]
        r = await c.put("/connectors/x/config", json=["a"])
        assert r.status_code == 400 and "got an array" in r.json()["message"]


async def test_options_and_head(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.options("/connectors")
        assert r.status_code == 200
        assert r.text == "HEAD, POST, GET, OPTIONS"
        assert r.headers["allow"] == "HEAD,POST,GET,OPTIONS"
        assert r.headers["content-type"] == "text/plain"
        assert (await c.options("/connectors/x/config")).text == "HEAD, GET, OPTIONS, PUT, PATCH"
        assert (await c.options("/nope")).status_code == 404
        r = await c.head("/connectors")
        assert (r.status_code, r.content, r.headers["content-type"]) == (200, b"", "application/json")
        assert r.headers["content-length"] == "2"


async def test_boolean_query_params_and_plugins(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        plugins = (await c.get("/connector-plugins")).json()
        types = [p["type"] for p in plugins]
        assert types == sorted(types, key=lambda t: t != "sink") and set(types) == {"sink", "source"}
        assert {"class": "test.NullSinkConnector", "type": "sink", "version": "0.1.0"} in plugins
        assert (await c.get("/connector-plugins?connectorsOnly=yes")).json() != plugins  # only "true" is true
        assert (await c.get("/connector-plugins?connectorsOnly=TRUE")).json() == plugins
        assert (await c.get("/connector-plugins?connectorsOnly=")).json() == plugins
        keys = (await c.get("/connector-plugins/IdleSource/config")).json()
        assert keys[0]["name"] == "value" and list(keys[0])[:3] == ["name", "type", "required"]
        assert (await c.get("/connector-plugins/Nope/config")).json() == err(404, "Unknown plugin Nope.")


async def test_validate_endpoint(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.put("/connector-plugins/IdleSource/config/validate", json={"connector.class": "IdleSource"})
        assert r.status_code == 200
        body = r.json()
        assert list(body) == ["name", "error_count", "groups", "configs"]
        assert body["name"] == "IdleSource" and body["error_count"] == 1  # missing name
        r = await c.put("/connector-plugins/NullSink/config/validate", json={"connector.class": "IdleSource"})
        assert r.json() == err(400, "Included connector type IdleSource does not match request type NullSink")
        r = await c.put("/connector-plugins/IdleSource/config/validate", json={"topics": "t"})
        # Kafka says 500 "<exception class>: ..." for these user mistakes; miniconnect says 400, as on create
        assert r.json() == err(400, "Connector config {topics=t} contains no connector type")
        r = await c.put("/connector-plugins/Nope/config/validate", json={"connector.class": "Nope"})
        assert r.status_code == 400
        assert r.json()["message"].startswith(
            "Failed to find any class that implements Connector and which name matches Nope"
        )


async def test_root_and_health(tmp_path: Path) -> None:
    async with rest_env(tmp_path, start=False) as env:
        c = env.client
        r = await c.get("/health")
        assert (r.status_code, r.json()) == (503, {"status": "starting", "message": "Worker is still starting up."})
        await env.herder.start()
        r = await c.get("/health")
        assert (r.status_code, r.json()) == (
            200,
            {"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."},
        )
        body = (await c.get("/")).json()
        assert list(body) == ["version", "commit", "kafka_cluster_id"]
        assert body["version"] == "4.1.1-miniconnect-0.1.0"
        assert body["kafka_cluster_id"] == await env.transport.cluster_id()


async def test_loggers(tmp_path: Path) -> None:
    logging.getLogger("mc.test.a.b")
    logging.getLogger("mc.test.ab")
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.get("/admin/loggers/mc.test.a.b")
        assert r.json() == {
            "level": logging.getLevelName(logging.getLogger("mc.test.a.b").getEffectiveLevel()).replace(
                "WARNING", "WARN"
            ),
            "last_modified": None,
        }
        assert (await c.get("/admin/loggers/mc.nope")).json() == err(404, "Logger mc.nope not found.")
        r = await c.put("/admin/loggers/mc.test.a", json={"level": "debug"})
        assert r.status_code == 200 and r.json() == ["mc.test.a", "mc.test.a.b", "mc.test.ab"]
        assert logging.getLogger("mc.test.ab").level == logging.DEBUG
        level = (await c.get("/admin/loggers/mc.test.a.b")).json()
        assert level["level"] == "DEBUG" and isinstance(level["last_modified"], int)
        all_levels = (await c.get("/admin/loggers")).json()
        assert list(all_levels) == sorted(all_levels) and "root" in all_levels and "mc.test.a" in all_levels
        r = await c.put("/admin/loggers/mc.test.a?scope=Cluster", json={"level": "TRACE"})
        assert (r.status_code, r.content) == (204, b"")
        assert logging.getLogger("mc.test.a.b").level == 5
        r = await c.put("/admin/loggers/mc.test.a?scope=bogus", json={"level": "ERROR"})
        assert r.status_code == 200
        assert (await c.put("/admin/loggers/x", json={})).json() == err(
            400, "Desired 'level' parameter was not specified in request."
        )
        assert (await c.put("/admin/loggers/x", json={"level": "loud"})).json() == err(404, "invalid log level 'loud'.")
        assert (await c.get("/admin/loggers/ROOT")).status_code == 200
        for name in ("mc.test.a", "mc.test.a.b", "mc.test.ab"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    async with rest_env(tmp_path / "noadmin", admin_listeners="") as env:
        assert (await env.client.get("/admin/loggers")).json() == err(404, "HTTP 404 Not Found")
        assert (await env.client.get("/connectors")).status_code == 200


async def test_cors_and_response_headers(tmp_path: Path) -> None:
    async with rest_env(
        tmp_path,
        access_control_allow_origin="http://ui.example",
        response_http_headers_config='set X-Frame-Options: DENY,"add Cache-Control: no-cache, no-store"',
    ) as env:
        c = env.client
        r = await c.get("/connectors", headers={"Origin": "http://ui.example"})
        assert r.headers["access-control-allow-origin"] == "http://ui.example"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-cache, no-store"
        r = await c.get("/connectors", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers
        r = await c.options("/nope", headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "POST"})
        assert r.status_code == 404
        assert r.headers["access-control-allow-methods"] == "GET,POST,HEAD"
        assert r.headers["access-control-allow-origin"] == "http://ui.example"
        r = await c.options(
            "/connectors", headers={"Origin": "http://ui.example", "Access-Control-Request-Method": "DELETE"}
        )
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    async with rest_env(tmp_path / "plain") as env:
        r = await env.client.get("/connectors", headers={"Origin": "http://ui.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_transformations_and_predicates_over_rest(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        everything = (await c.get("/connector-plugins?connectorsOnly=false")).json()
        by_type: dict[str, list[str]] = {}
        for p in everything:
            by_type.setdefault(p["type"], []).append(p["class"])
        assert len(by_type["transformation"]) == 26 and len(by_type["predicate"]) == 3
        assert len(by_type["header_converter"]) == 10
        assert "org.apache.kafka.connect.transforms.ExtractField$Key" in by_type["transformation"]
        keys = (await c.get("/connector-plugins/org.apache.kafka.connect.transforms.ExtractField$Key/config")).json()
        assert [k["name"] for k in keys] == ["field", "field.syntax.version", "replace.null.with.default"]
        assert keys[1]["default_value"] == "V1"
        keys = (await c.get("/connector-plugins/TopicNameMatches/config")).json()
        assert keys[0]["name"] == "pattern" and keys[0]["required"] is True
        r = await c.put(
            "/connector-plugins/IdleSource/config/validate",
            json={
                "connector.class": "IdleSource",
                "name": "v",
                "transforms": "route",
                "transforms.route.type": "RegexRouter",
                "transforms.route.regex": "[",
                "transforms.route.replacement": "x",
            },
        )
        body = r.json()
        assert r.status_code == 200 and body["error_count"] == 1
        regex = next(
            e for e in body["configs"] if e["definition"] and e["definition"]["name"] == "transforms.route.regex"
        )
        assert regex["definition"]["group"] == "Transforms: route"
        assert regex["value"]["errors"][0].startswith("Invalid value [ for configuration regex: Invalid regex: ")
