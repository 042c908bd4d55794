"""/connectors endpoints through the real app, StandaloneHerder and Worker (embedded log, test connectors)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rest_testkit import IdleSourceConnector, SlowStartSourceConnector, rest_env, sink_config, source_config

from miniconnect.connector import TopicPartition
from miniconnect.transport.base import NewTopic

JSON = {"Content-Type": "application/json"}


def err(code: int, message: str) -> dict:
    return {"error_code": code, "message": message}


async def test_create_get_config_and_list(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.post("/connectors", json={"name": "  src ", "config": {**source_config(), "tasks.max": 2}})
        assert r.status_code == 201
        assert r.headers["location"] == "http://testserver/connectors/src"
        assert r.headers["content-type"] == "application/json"
        assert r.content.startswith(b'{"name":"src","config":{"connector.class":"IdleSource","tasks.max":"2",')
        body = r.json()
        assert list(body) == ["name", "config", "tasks", "type"]
        assert body["config"]["name"] == "src" and body["type"] == "source"
        assert body["tasks"] == [{"connector": "src", "task": 0}, {"connector": "src", "task": 1}]

        assert (await c.get("/connectors")).json() == ["src"]
        assert (await c.get("/connectors/src")).json() == body
        assert (await c.get("/connectors/src/config")).json() == body["config"]
        tasks = (await c.get("/connectors/src/tasks")).json()
        assert [t["id"] for t in tasks] == body["tasks"]
        assert tasks[1]["config"] == {
            "task.class": "test.IdleSourceTask",
            "index": "1",
            "value": "v",
            "fail.task": "false",
        }
        r = await c.get("/connectors/src/tasks-config")  # removed in Connect 4.0
        assert (r.status_code, r.json(), r.headers.get("content-type")) == (404, err(404, "HTTP 404 Not Found"), None)
        status = await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        assert list(status) == ["name", "connector", "tasks", "type"]
        assert status["connector"] == {"state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "0.1.0"}
        assert status["tasks"][0] == {"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "0.1.0"}
        r = await c.get("/connectors/src/tasks/1/status")
        assert r.json() == {"id": 1, "state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "0.1.0"}

        r = await c.post("/connectors", json={"name": "src", "config": source_config()})
        assert (r.status_code, r.json()) == (409, err(409, "Connector src already exists"))


async def test_create_errors(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.post("/connectors", json={"name": "a", "config": {**source_config(), "name": "b"}})
        assert r.json() == err(400, "Connector name configuration (b) doesn't match connector name in the URL (a)")
        r = await c.post("/connectors", json={"name": "a", "config": {"tasks.max": "1"}})
        assert r.status_code == 400
        assert r.json()["message"].endswith("contains no connector type")
        r = await c.post("/connectors", json={"name": "a", "config": {"connector.class": "Nope"}})
        assert r.status_code == 400
        assert r.json()["message"].startswith(
            "org.apache.kafka.connect.errors.ConnectException: Failed to find any "
            "class that implements Connector and which name matches Nope"
        )
        r = await c.post("/connectors", json={"name": "", "config": source_config()})
        assert r.status_code == 400
        assert r.json()["message"].startswith(
            "Connector configuration is invalid and contains the following 1 "
            "error(s):\nInvalid value  for configuration name: String may not "
            "be empty\n"
        )
        r = await c.post("/connectors", json={"name": "s", "config": {"connector.class": "NullSink"}})
        assert r.status_code == 400 and "Connector configuration is invalid" in r.json()["message"]
        # validation runs before the existence check: an invalid config for an existing name is 400, not 409
        assert (await c.post("/connectors", json={"name": "x", "config": source_config()})).status_code == 201
        r = await c.post("/connectors", json={"name": "x", "config": {"tasks.max": "1"}})
        assert r.status_code == 400
        r = await c.post("/connectors", json={"name": "y", "config": source_config(), "initial_state": "bogus"})
        assert r.status_code == 400 and "initial_state" in r.json()["message"]
        r = await c.post("/connectors", json={"name": "y", "config": {"a": {"b": 1}}})
        assert r.status_code == 400 and "'a'" in r.json()["message"]
        r = await c.post("/connectors", json={"name": "y", "config": source_config(), "extra": 1})
        assert r.status_code == 400 and 'Unrecognized field "extra"' in r.json()["message"]
        r = await c.post("/connectors", json={"name": "y"})
        assert r.status_code == 400 and "'config'" in r.json()["message"]
        # a transformation that is not installed is refused, not ignored
        r = await c.post(
            "/connectors",
            json={
                "name": "t",
                "config": {**source_config(), "transforms": "route", "transforms.route.type": "org.example.Route"},
            },
        )
        assert r.status_code == 400 and r.json()["message"].startswith(
            "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value "
            "org.example.Route for configuration transforms.route.type: Class org.example.Route could not be found."
        )
        assert (await c.get("/connectors")).json() == ["x"]


async def test_broken_connector_is_stored_failed_and_does_not_disturb_others(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        assert (await c.post("/connectors", json={"name": "ok", "config": source_config()})).status_code == 201
        r = await c.post("/connectors", json={"name": "bad", "config": {"connector.class": "BrokenSource"}})
        assert r.json() == err(500, "Failed to transition connector bad to state STARTED")
        assert sorted((await c.get("/connectors")).json()) == ["bad", "ok"]
        status = await env.wait_state("bad", "FAILED")
        assert "connector start failed on purpose" in status["connector"]["trace"]
        assert list(status["connector"]) == ["state", "worker_id", "version", "trace"]
        await env.wait_state("ok", "RUNNING", ["RUNNING", "RUNNING"])


async def test_initial_states(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.post("/connectors", json={"name": "p", "config": source_config(), "initial_state": "paused"})
        assert r.status_code == 201 and r.json()["tasks"] == []
        await env.wait_state("p", "PAUSED", [])
        r = await c.post("/connectors", json={"name": "s", "config": source_config(), "initial_state": "STOPPED"})
        assert r.status_code == 201 and r.json()["tasks"] == []
        await env.wait_state("s", "STOPPED", [])
        assert (await c.put("/connectors/p/resume")).status_code == 202
        await env.wait_state("p", "RUNNING", ["RUNNING", "RUNNING"])
        assert (await c.put("/connectors/s/resume")).status_code == 202
        await env.wait_state("s", "RUNNING", ["RUNNING", "RUNNING"])


async def test_put_and_patch_config(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        r = await c.put("/connectors/src/config", json=source_config(value="one"))
        assert r.status_code == 201 and r.headers["location"] == "http://testserver/connectors/src"
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        r = await c.put("/connectors/src/config", json=source_config(value="two"))
        assert r.status_code == 200 and "location" not in r.headers
        assert r.json()["config"]["value"] == "two"
        tasks = (await c.get("/connectors/src/tasks")).json()
        assert [t["config"]["value"] for t in tasks] == ["two", "two"]
        r = await c.put("/connectors/src/config", json={**source_config(), "name": "other"})
        assert r.json() == err(
            400, "Connector name configuration (other) doesn't match connector name in the URL (src)"
        )
        r = await c.patch("/connectors/src/config", json={"tasks.max": 1, "value": None, "extra": "x"})
        assert r.status_code == 200
        assert r.json()["config"] == {"connector.class": "IdleSource", "tasks.max": "1", "name": "src", "extra": "x"}
        assert r.json()["tasks"] == [{"connector": "src", "task": 0}]
        r = await c.patch("/connectors/nope/config", json={"a": "b"})
        assert r.json() == err(404, "Connector nope not found")
        r = await c.patch("/connectors/src/config", json={"tasks.max": "zero"})
        assert r.status_code == 400 and "Connector configuration is invalid" in r.json()["message"]


async def test_unknown_connector_messages(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        expected = {
            ("GET", "/connectors/x"): err(404, "Connector x not found"),
            ("GET", "/connectors/x/config"): err(404, "Connector x not found"),
            ("GET", "/connectors/x/tasks"): err(404, "Connector x not found"),
            ("GET", "/connectors/x/tasks-config"): err(404, "HTTP 404 Not Found"),
            ("DELETE", "/connectors/x"): err(404, "Connector x not found"),
            ("GET", "/connectors/x/status"): err(404, "No status found for connector x"),
            ("GET", "/connectors/x/tasks/0/status"): err(404, "No status found for task x-0"),
            ("PUT", "/connectors/x/pause"): err(404, "Unknown connector x"),
            ("PUT", "/connectors/x/resume"): err(404, "Unknown connector x"),
            ("PUT", "/connectors/x/stop"): err(500, "No connector `x` configured"),
            ("POST", "/connectors/x/restart"): err(404, "Connector x not found"),
            ("POST", "/connectors/x/restart?includeTasks=true"): err(404, "Unknown connector: x"),
            ("POST", "/connectors/x/tasks/0/restart"): err(
                500, "Failed to start task x-0 since it is not a recognizable type (source or sink)"
            ),
            ("GET", "/connectors/x/offsets"): err(404, "Connector x not found"),
            ("DELETE", "/connectors/x/offsets"): err(404, "Connector x not found"),
            ("GET", "/connectors/x/tasks/abc/status"): err(404, "HTTP 404 Not Found"),
            ("POST", "/connectors/x/tasks"): err(
                500, "Kafka Connect in standalone mode does not support externally setting task configurations."
            ),
            ("PUT", "/connectors/x/fence"): err(
                500, "Kafka Connect in standalone mode does not support exactly-once source connectors."
            ),
        }
        for (method, path), body in expected.items():
            r = await c.request(method, path)
            assert (r.status_code, r.json()) == (body["error_code"], body), (method, path)
        r = await c.patch("/connectors/x/offsets", json={"offsets": [{"partition": {}, "offset": {}}]})
        assert r.json() == err(404, "Connector x not found")
        assert (await c.post("/connectors", json={"name": "x", "config": source_config()})).status_code == 201
        r = await c.post("/connectors/x/tasks/7/restart")
        assert r.json() == err(404, "Task x-7 not found")


async def test_pause_resume_stop_and_delete(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        await c.post("/connectors", json={"name": "src", "config": source_config()})
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        r = await c.put("/connectors/src/pause")
        assert (r.status_code, r.content, r.headers.get("content-type")) == (202, b"", None)
        await env.wait_state("src", "PAUSED", ["PAUSED", "PAUSED"])
        assert (await c.put("/connectors/src/pause")).status_code == 202  # idempotent
        assert (await c.put("/connectors/src/resume")).status_code == 202
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        r = await c.put("/connectors/src/stop")
        assert (r.status_code, r.content) == (204, b"")
        await env.wait_state("src", "STOPPED", [])
        assert (await c.get("/connectors/src/tasks")).json() == []
        assert (await c.put("/connectors/src/stop")).status_code == 204
        assert (await c.put("/connectors/src/pause")).status_code == 202  # STOPPED -> PAUSED
        await env.wait_state("src", "PAUSED", [])
        assert (await c.put("/connectors/src/resume")).status_code == 202
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        r = await c.delete("/connectors/src")
        assert (r.status_code, r.content) == (204, b"")
        assert (await c.get("/connectors")).json() == []
        assert (await c.get("/connectors/src/status")).status_code == 404


async def test_restart_semantics(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        cfg = source_config(**{"fail.task": "true"})
        await c.post("/connectors", json={"name": "src", "config": cfg})
        status = await env.wait_state("src", "RUNNING", ["FAILED", "FAILED"])
        assert "task start failed on purpose" in status["tasks"][0]["trace"]
        r = await c.post("/connectors/src/restart")
        assert (r.status_code, r.content) == (204, b"")
        r = await c.post("/connectors/src/restart?includeTasks=true&onlyFailed=true")
        assert r.status_code == 202
        body = r.json()
        assert body["connector"]["state"] == "RUNNING"  # not FAILED, so not restarted with onlyFailed
        assert [t["state"] for t in body["tasks"]] == ["RESTARTING", "RESTARTING"]
        await env.wait_state("src", "RUNNING", ["FAILED", "FAILED"])
        r = await c.post("/connectors/src/restart?onlyFailed=TRUE")
        assert r.json()["connector"]["state"] == "RUNNING" and r.json()["tasks"][0]["state"] == "FAILED"
        r = await c.post("/connectors/src/restart?includeTasks=yes")  # only "true" is true: plain restart
        assert r.status_code == 204
        r = await c.post("/connectors/src/restart?includeTasks=true")
        assert r.json()["connector"]["state"] == "RESTARTING"
        assert (await c.post("/connectors/src/tasks/1/restart")).status_code == 204
        await env.wait_state("src", "RUNNING", ["FAILED", "FAILED"])
        # fix the task config: tasks restart with new configs
        await c.put("/connectors/src/config", json=source_config())
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])


async def test_expand(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        await c.post("/connectors", json={"name": "a", "config": source_config()})
        await env.wait_state("a", "RUNNING", ["RUNNING", "RUNNING"])
        r = await c.get("/connectors?expand=info&expand=status")
        assert list(r.json()["a"]) == ["info", "status"]
        assert r.json()["a"]["status"]["connector"]["state"] == "RUNNING"
        assert r.json()["a"]["info"]["name"] == "a"
        assert (await c.get("/connectors?expand=status,info")).json() == {"a": {}}
        assert (await c.get("/connectors?expand=")).json() == {"a": {}}
        env.herder.status.remove_connector("a")  # no status record yet: left out of the map
        assert (await c.get("/connectors?expand=status")).json() == {}
        assert (await c.get("/connectors?expand=info")).json()["a"]["info"]["type"] == "source"


async def test_topics(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        assert (await c.get("/connectors/zzz/topics")).json() == {"zzz": {"topics": []}}
        await c.post("/connectors", json={"name": "a", "config": source_config()})
        env.herder.on_topic_used("a", "t2")
        env.herder.on_topic_used("a", "t1")
        assert (await c.get("/connectors/a/topics")).json() == {"a": {"topics": ["t1", "t2"]}}
        r = await c.put("/connectors/a/topics/reset")
        assert (r.status_code, r.content) == (202, b"")
        assert (await c.get("/connectors/a/topics")).json() == {"a": {"topics": []}}
        env.herder.on_topic_used("a", "t3")
        await c.delete("/connectors/a")
        assert (await c.get("/connectors/a/topics")).json() == {"a": {"topics": []}}
    async with rest_env(tmp_path / "off", topic_tracking_enable="false") as env:
        assert (await env.client.get("/connectors/a/topics")).json() == err(403, "Topic tracking is disabled.")
        assert (await env.client.put("/connectors/a/topics/reset")).json() == err(403, "Topic tracking is disabled.")
    async with rest_env(tmp_path / "noreset", topic_tracking_allow_reset="false") as env:
        r = await env.client.put("/connectors/a/topics/reset")
        assert r.json() == err(403, "Topic tracking reset is disabled.")


STOPPED_MSG = (
    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for "
    "the specified connector by issuing a 'PUT' request to the '/connectors/{}/stop' endpoint"
)
FRAMEWORK_ALTERED = (
    "The Connect framework-managed offsets for this connector have been altered successfully. "
    "However, if this connector manages offsets externally, they will need to be manually altered "
    "in the system that the connector uses."
)


async def test_source_offsets(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        await c.post("/connectors", json={"name": "src", "config": source_config()})
        await env.offsets.put("src", {'{"file":"a"}': {"pos": 3}})
        assert (await c.get("/connectors/src/offsets")).json() == {
            "offsets": [{"partition": {"file": "a"}, "offset": {"pos": 3}}]
        }
        body = {"offsets": [{"partition": {"file": "b"}, "offset": {"pos": 7}}]}
        r = await c.patch("/connectors/src/offsets", json=body)
        assert r.json() == err(400, STOPPED_MSG.format("src"))
        assert (await c.delete("/connectors/src/offsets")).json() == err(400, STOPPED_MSG.format("src"))
        await c.put("/connectors/src/stop")
        r = await c.patch("/connectors/src/offsets", json={"offsets": []})
        assert r.json() == err(400, "Partitions / offsets need to be provided for an alter offsets request")
        r = await c.patch("/connectors/src/offsets", json={"offsets": [{"partition": {"f": {"x": 1}}, "offset": {}}]})
        assert r.json() == err(500, "Offsets may only contain primitive types as values, but field f contains MAP")
        r = await c.patch("/connectors/src/offsets", json=body)
        assert r.json() == {"message": FRAMEWORK_ALTERED}
        assert IdleSourceConnector.altered[-1] == {'{"file":"b"}': {"pos": 7}}
        got = (await c.get("/connectors/src/offsets")).json()["offsets"]
        assert {"partition": {"file": "b"}, "offset": {"pos": 7}} in got and len(got) == 2
        r = await c.patch("/connectors/src/offsets", json={"offsets": [{"partition": {"file": "a"}, "offset": None}]})
        assert r.status_code == 200
        assert (await c.get("/connectors/src/offsets")).json()["offsets"] == [
            {"partition": {"file": "b"}, "offset": {"pos": 7}}
        ]
        r = await c.delete("/connectors/src/offsets")
        assert r.json()["message"].startswith(
            "The Connect framework-managed offsets for this connector have been reset successfully."
        )
        assert (await c.get("/connectors/src/offsets")).json() == {"offsets": []}
        assert (await c.delete("/connectors/src/offsets")).status_code == 200  # idempotent
        await c.put("/connectors/m/config", json=source_config(**{"manages.offsets": "true"}))
        await c.put("/connectors/m/stop")
        r = await c.patch("/connectors/m/offsets", json=body)
        assert r.json() == {"message": "The offsets for this connector have been altered successfully"}
        await c.put("/connectors/n/config", json={"connector.class": "NoOffsetsSource"})
        await c.put("/connectors/n/stop")
        r = await c.patch("/connectors/n/offsets", json=body)
        assert r.json() == err(
            500, "Failed to modify offsets for connector n because it doesn't support external modification of offsets"
        )


async def test_sink_offsets_and_format_errors(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        await c.post("/connectors", json={"name": "snk", "config": sink_config(), "initial_state": "STOPPED"})
        await env.transport.create_topics([NewTopic("t1")])
        await env.transport.alter_committed_offsets("connect-snk", {TopicPartition("t1", 0): 5})
        assert (await c.get("/connectors/snk/offsets")).json() == {
            "offsets": [{"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"kafka_offset": 5}}]
        }
        cases = [
            (
                {"partition": None, "offset": None},
                "The partition for a sink connector offset cannot be null or missing",
            ),
            (
                {"partition": {"kafka_topic": "t1"}, "offset": None},
                "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
            ),
            (
                {"partition": {"kafka_topic": None, "kafka_partition": 0}, "offset": None},
                "Kafka topic names must be valid strings and may not be null",
            ),
            (
                {"partition": {"kafka_topic": "t1", "kafka_partition": None}, "offset": None},
                "Kafka partitions must be valid numbers and may not be null",
            ),
            (
                {"partition": {"kafka_topic": "t1", "kafka_partition": "x"}, "offset": None},
                "Failed to parse the following Kafka partition value in the provided offsets: 'x'. Partition values "
                "for sink connectors need to be integers.",
            ),
            (
                {"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"o": 1}},
                "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
            ),
            (
                {"partition": {"kafka_topic": "t1", "kafka_partition": 0}, "offset": {"kafka_offset": 1.5}},
                "Failed to parse the following Kafka offset value in the provided offsets: '1.5'. Offset values for "
                "sink connectors need to be integers.",
            ),
        ]
        for entry, message in cases:
            r = await c.patch("/connectors/snk/offsets", json={"offsets": [entry]})
            assert r.json() == err(400, message), entry
        r = await c.patch(
            "/connectors/snk/offsets",
            json={
                "offsets": [
                    {"partition": {"kafka_topic": "t1", "kafka_partition": "0"}, "offset": {"kafka_offset": "10"}}
                ]
            },
        )
        assert r.json() == {"message": FRAMEWORK_ALTERED}
        assert await env.transport.committed_offsets("connect-snk") == {TopicPartition("t1", 0): 10}
        r = await c.delete("/connectors/snk/offsets")
        assert r.status_code == 200 and "reset successfully" in r.json()["message"]
        assert (await c.get("/connectors/snk/offsets")).json() == {"offsets": []}


async def test_reconfiguration_request_regenerates_tasks(tmp_path: Path) -> None:
    async with rest_env(tmp_path) as env:
        c = env.client
        await c.post("/connectors", json={"name": "src", "config": source_config(value="old")})
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])
        connector = env.herder.worker.connector_instance("src")
        connector.props["value"] = "new"  # the source system changed
        connector.context.request_task_reconfiguration()

        async def values() -> list[str]:
            return [t["config"]["value"] for t in (await c.get("/connectors/src/tasks")).json()]

        for _ in range(250):
            if await values() == ["new", "new"]:
                break
            await asyncio.sleep(0.02)
        assert await values() == ["new", "new"]
        await env.wait_state("src", "RUNNING", ["RUNNING", "RUNNING"])


async def test_slow_connector_start_goes_on_after_the_answer(tmp_path: Path) -> None:
    gates, cancelled = SlowStartSourceConnector.gates, SlowStartSourceConnector.cancelled
    async with rest_env(tmp_path) as env:
        c = env.client
        for name in ("slow", "slow-fail", "slow-deleted"):
            config = {
                **source_config(),
                "connector.class": "SlowStartSource",
                "fail.start": "true" if name == "slow-fail" else "false",
            }
            r = await c.post("/connectors", json={"name": name, "config": config})
            assert r.status_code == 201 and r.json()["tasks"] == [], r.text  # answered while start() waits
            assert (await env.status(name))["connector"]["state"] == "UNASSIGNED"
        gates["slow"].set()
        await env.wait_state("slow", "RUNNING", ["RUNNING", "RUNNING"])
        assert len((await c.get("/connectors/slow")).json()["tasks"]) == 2
        gates["slow-fail"].set()
        status = await env.wait_state("slow-fail", "FAILED", [])
        assert "could not reach the system on purpose" in status["connector"]["trace"]
        assert (await c.delete("/connectors/slow-deleted")).status_code == 204
        assert "slow-deleted" in cancelled and (await c.get("/connectors/slow-deleted/status")).status_code == 404
