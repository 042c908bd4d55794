// Test harness: Kafka's own ConnectProtocol / IncrementalCooperativeConnectProtocol encode and decode the cases on
// stdin (a JSON list), answering a JSON list on stdout. Compiled at test time against Kafka Connect's jars.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.message.JoinGroupRequestData.JoinGroupRequestProtocol;
import org.apache.kafka.connect.runtime.distributed.ConnectProtocol;
import org.apache.kafka.connect.runtime.distributed.ExtendedAssignment;
import org.apache.kafka.connect.runtime.distributed.ExtendedWorkerState;
import org.apache.kafka.connect.runtime.distributed.IncrementalCooperativeConnectProtocol;
import org.apache.kafka.connect.util.ConnectorTaskId;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

public class ConnectProtocolHarness {
    static final ObjectMapper M = new ObjectMapper();
    static final HexFormat HEX = HexFormat.of();

    static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(e -> out.add(e.asText()));
        return out;
    }

    static List<ConnectorTaskId> tasks(JsonNode n) {
        List<ConnectorTaskId> out = new ArrayList<>();
        n.forEach(e -> out.add(new ConnectorTaskId(e.get(0).asText(), e.get(1).asInt())));
        return out;
    }

    static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }

    static ExtendedAssignment assignment(JsonNode a) {
        if (a == null || a.isNull()) return null;
        return new ExtendedAssignment((short) a.get("version").asInt(), (short) a.get("error").asInt(),
                text(a.get("leader")), text(a.get("leader_url")), a.get("offset").asLong(),
                strings(a.get("connectors")), tasks(a.get("tasks")),
                strings(a.get("revoked_connectors")), tasks(a.get("revoked_tasks")), a.get("delay").asInt());
    }

    static String hex(ByteBuffer b) {
        if (b == null) return null;
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return HEX.formatHex(out);
    }

    static ArrayNode taskJson(Collection<ConnectorTaskId> tasks) {
        ArrayNode out = M.createArrayNode();
        for (ConnectorTaskId t : tasks) out.add(M.createArrayNode().add(t.connector()).add(t.task()));
        return out;
    }

    static JsonNode assignmentJson(ConnectProtocol.Assignment a, int version) {
        if (a == null) return M.nullNode();
        ObjectNode o = M.createObjectNode();
        o.put("version", version).put("error", a.error()).put("leader", a.leader()).put("leader_url", a.leaderUrl())
                .put("offset", a.offset());
        o.set("connectors", M.valueToTree(a.connectors()));
        o.set("tasks", taskJson(a.tasks()));
        if (a instanceof ExtendedAssignment e) {
            o.put("version", e.version());
            o.set("revoked_connectors", M.valueToTree(e.revokedConnectors()));
            o.set("revoked_tasks", taskJson(e.revokedTasks()));
            o.put("delay", e.delay());
        } else {
            o.set("revoked_connectors", M.createArrayNode());
            o.set("revoked_tasks", M.createArrayNode());
            o.put("delay", 0);
        }
        return o;
    }

    static JsonNode run(JsonNode c) {
        String op = c.get("op").asText();
        boolean sessioned = c.path("sessioned").asBoolean(false);
        ObjectNode out = M.createObjectNode();
        switch (op) {
            case "encode_metadata_v0" -> out.put("hex", hex(ConnectProtocol.serializeMetadata(
                    new ConnectProtocol.WorkerState(c.get("url").asText(), c.get("offset").asLong()))));
            case "encode_metadata" -> out.put("hex", hex(IncrementalCooperativeConnectProtocol.serializeMetadata(
                    new ExtendedWorkerState(c.get("url").asText(), c.get("offset").asLong(),
                            assignment(c.get("assignment"))), sessioned)));
            case "encode_assignment_v0" -> {
                ExtendedAssignment a = assignment(c.get("assignment"));
                out.put("hex", hex(ConnectProtocol.serializeAssignment(new ConnectProtocol.Assignment(a.error(),
                        a.leader(), a.leaderUrl(), a.offset(), a.connectors(), a.tasks()))));
            }
            case "encode_assignment" -> out.put("hex", hex(
                    IncrementalCooperativeConnectProtocol.serializeAssignment(assignment(c.get("assignment")), sessioned)));
            case "metadata_request" -> {
                ExtendedWorkerState s = new ExtendedWorkerState(c.get("url").asText(), c.get("offset").asLong(),
                        assignment(c.get("assignment")));
                ArrayNode list = M.createArrayNode();
                Iterable<JoinGroupRequestProtocol> protocols = switch (c.get("mode").asText()) {
                    case "eager" -> ConnectProtocol.metadataRequest(s);
                    case "compatible" -> IncrementalCooperativeConnectProtocol.metadataRequest(s, false);
                    default -> IncrementalCooperativeConnectProtocol.metadataRequest(s, true);
                };
                for (JoinGroupRequestProtocol p : protocols)
                    list.add(M.createArrayNode().add(p.name()).add(HEX.formatHex(p.metadata())));
                out.set("protocols", list);
            }
            case "decode_metadata_v0" -> {
                ConnectProtocol.WorkerState s = ConnectProtocol.deserializeMetadata(
                        ByteBuffer.wrap(HEX.parseHex(c.get("hex").asText())));
                out.put("url", s.url()).put("offset", s.offset());
            }
            case "decode_metadata" -> {
                ExtendedWorkerState s = IncrementalCooperativeConnectProtocol.deserializeMetadata(
                        ByteBuffer.wrap(HEX.parseHex(c.get("hex").asText())));
                out.put("url", s.url()).put("offset", s.offset());
                ExtendedAssignment a = s.assignment();
                out.set("assignment", a == ExtendedAssignment.empty() ? M.nullNode() : assignmentJson(a, a.version()));
            }
            case "decode_assignment_v0" -> out.set("assignment", assignmentJson(ConnectProtocol.deserializeAssignment(
                    ByteBuffer.wrap(HEX.parseHex(c.get("hex").asText()))), 0));
            case "decode_assignment" -> out.set("assignment", assignmentJson(
                    IncrementalCooperativeConnectProtocol.deserializeAssignment(
                            ByteBuffer.wrap(HEX.parseHex(c.get("hex").asText()))), -1));
            default -> throw new IllegalArgumentException(op);
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        JsonNode cases = M.readTree(System.in);
        ArrayNode out = M.createArrayNode();
        for (JsonNode c : cases) out.add(run(c));
        M.writeValue(System.out, out);
    }
}
