// Test harness: Kafka's own IncrementalCooperativeAssignor runs the rounds on stdin (a JSON list of scenarios, each
// a list of rounds: time, configured connectors with task counts, generations, members' current assignments) and
// prints what it assigned and revoked per round. Lives in Kafka's package to reach performTaskAssignment, which
// Kafka keeps package-private for its own tests.
package org.apache.kafka.connect.runtime.distributed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.connect.runtime.TargetState;
import org.apache.kafka.connect.storage.AppliedConnectorConfig;
import org.apache.kafka.connect.storage.ClusterConfigState;
import org.apache.kafka.connect.util.ConnectorTaskId;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

public class AssignorHarness {
    static final ObjectMapper M = new ObjectMapper();

    static final class FixedTime implements Time {
        long now;
        public long milliseconds() { return now; }
        public long nanoseconds() { return now * 1_000_000L; }
        public void sleep(long ms) { now += ms; }
        public void waitObject(Object o, Supplier<Boolean> c, long deadline) { throw new UnsupportedOperationException(); }
    }

    static ClusterConfigState snapshot(JsonNode connectors) {
        Map<String, Integer> counts = new HashMap<>();
        Map<String, Map<String, String>> configs = new HashMap<>();
        Map<String, TargetState> states = new HashMap<>();
        Map<ConnectorTaskId, Map<String, String>> taskConfigs = new HashMap<>();
        connectors.fields().forEachRemaining(e -> {
            counts.put(e.getKey(), e.getValue().asInt());
            configs.put(e.getKey(), Collections.emptyMap());
            states.put(e.getKey(), TargetState.STARTED);
            for (int i = 0; i < e.getValue().asInt(); i++)
                taskConfigs.put(new ConnectorTaskId(e.getKey(), i), Collections.emptyMap());
        });
        return new ClusterConfigState(1, null, counts, configs, states, taskConfigs, Collections.emptyMap(),
                Collections.emptyMap(), Collections.<String, AppliedConnectorConfig>emptyMap(),
                Collections.emptySet(), Collections.emptySet());
    }

    static <T> ObjectNode json(Map<String, Collection<T>> m) {
        ObjectNode o = M.createObjectNode();
        m.forEach((w, values) -> {
            ArrayNode a = M.createArrayNode();
            for (T v : values) {
                if (v instanceof ConnectorTaskId t) a.add(M.createArrayNode().add(t.connector()).add(t.task()));
                else a.add(v.toString());
            }
            o.set(w, a);
        });
        return o;
    }

    public static void main(String[] args) throws Exception {
        ArrayNode out = M.createArrayNode();
        for (JsonNode scenario : M.readTree(System.in)) {
            FixedTime time = new FixedTime();
            IncrementalCooperativeAssignor assignor = new IncrementalCooperativeAssignor(
                    new LogContext(), time, scenario.get("max_delay").asInt());
            ArrayNode rounds = M.createArrayNode();
            for (JsonNode round : scenario.get("rounds")) {
                time.now = round.get("now").asLong();
                // A HashMap filled in the members' order, as the coordinator's Collectors.toMap builds it.
                Map<String, WorkerCoordinator.ConnectorsAndTasks> members = new HashMap<>();
                round.get("members").fields().forEachRemaining(e -> {
                    List<String> connectors = new ArrayList<>();
                    e.getValue().get("connectors").forEach(c -> connectors.add(c.asText()));
                    List<ConnectorTaskId> tasks = new ArrayList<>();
                    e.getValue().get("tasks").forEach(t -> tasks.add(new ConnectorTaskId(t.get(0).asText(), t.get(1).asInt())));
                    members.put(e.getKey(), new WorkerCoordinator.ConnectorsAndTasks.Builder().with(connectors, tasks).build());
                });
                IncrementalCooperativeAssignor.ClusterAssignment a = assignor.performTaskAssignment(
                        snapshot(round.get("connectors")), round.get("last_completed_generation").asInt(),
                        round.get("generation").asInt(), members);
                ObjectNode r = M.createObjectNode();
                r.set("newly_assigned_connectors", json(a.newlyAssignedConnectors()));
                r.set("newly_assigned_tasks", json(a.newlyAssignedTasks()));
                r.set("newly_revoked_connectors", json(a.newlyRevokedConnectors()));
                r.set("newly_revoked_tasks", json(a.newlyRevokedTasks()));
                r.set("all_assigned_connectors", json(a.allAssignedConnectors()));
                r.set("all_assigned_tasks", json(a.allAssignedTasks()));
                r.put("delay", assignor.delay);
                rounds.add(r);
            }
            out.add(rounds);
        }
        M.writeValue(System.out, out);
    }
}
