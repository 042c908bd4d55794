// Serializes internal-topic records with Apache Kafka Connect's own classes (KafkaConfigBackingStore's schemas and
// serializeTargetState, KafkaStatusBackingStore's serializers, the offset key as OffsetStorageWriter builds it), for
// tests/unit/test_kafka_store_formats.py. Reads a JSON list of cases on stdin, writes a JSON list of base64 strings
// (null for a null record value).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.*;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.AbstractStatus;
import org.apache.kafka.connect.runtime.ConnectorStatus;
import org.apache.kafka.connect.runtime.TargetState;
import org.apache.kafka.connect.runtime.TaskStatus;
import org.apache.kafka.connect.runtime.TopicStatus;
import org.apache.kafka.connect.storage.KafkaConfigBackingStore;
import org.apache.kafka.connect.storage.KafkaStatusBackingStore;
import org.apache.kafka.connect.util.ConnectorTaskId;

public class StoreFormatsHarness {
    static Object plain(JsonNode n) {  // JSON -> the Java values a task would hand over (HashMap partitions and offsets)
        if (n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isBoolean()) return n.asBoolean();
        if (n.isIntegralNumber()) return n.asLong();
        if (n.isNumber()) return n.asDouble();
        if (n.isArray()) { List<Object> l = new ArrayList<>(); n.forEach(x -> l.add(plain(x))); return l; }
        Map<String, Object> m = new HashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), plain(e.getValue())));
        return m;
    }

    static Map<String, String> strings(JsonNode n) {  // connector/task configs keep the request's order
        Map<String, String> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
        return m;
    }

    public static void main(String[] args) throws Exception {
        JsonNode cases = new ObjectMapper().readTree(System.in);
        JsonConverter converter = new JsonConverter();
        converter.configure(Collections.singletonMap("schemas.enable", "false"), false);
        Field unsafeField = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        unsafeField.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) unsafeField.get(null);
        // a config store without its constructor (which would look the cluster id up): only its converter is used
        KafkaConfigBackingStore configs = (KafkaConfigBackingStore) unsafe.allocateInstance(KafkaConfigBackingStore.class);
        Field conv = KafkaConfigBackingStore.class.getDeclaredField("converter");
        conv.setAccessible(true);
        conv.set(configs, converter);
        Method targetState = KafkaConfigBackingStore.class.getDeclaredMethod("serializeTargetState", TargetState.class);
        targetState.setAccessible(true);
        KafkaStatusBackingStore statuses = new KafkaStatusBackingStore(Time.SYSTEM, converter, () -> null, "h-");
        Method status = KafkaStatusBackingStore.class.getDeclaredMethod("serialize", AbstractStatus.class);
        status.setAccessible(true);
        Method topicStatus = KafkaStatusBackingStore.class.getDeclaredMethod("serializeTopicStatus", TopicStatus.class);
        topicStatus.setAccessible(true);

        List<String> out = new ArrayList<>();
        for (JsonNode c : cases) {
            byte[] b;
            switch (c.get("kind").asText()) {
                case "connector": {
                    Struct s = new Struct(KafkaConfigBackingStore.CONNECTOR_CONFIGURATION_V0);
                    s.put("properties", strings(c.get("config")));
                    b = converter.fromConnectData("t", s.schema(), s);
                    break;
                }
                case "commit": {
                    Struct s = new Struct(KafkaConfigBackingStore.CONNECTOR_TASKS_COMMIT_V0);
                    s.put("tasks", c.get("tasks").asInt());
                    b = converter.fromConnectData("t", s.schema(), s);
                    break;
                }
                case "target-state":
                    b = (byte[]) targetState.invoke(configs, TargetState.valueOf(c.get("state").asText()));
                    break;
                case "session-key": {
                    Struct s = new Struct(KafkaConfigBackingStore.SESSION_KEY_V0);
                    s.put("key", c.get("key").asText());
                    s.put("algorithm", c.get("algorithm").asText());
                    s.put("creation-timestamp", c.get("created").asLong());
                    b = converter.fromConnectData("t", s.schema(), s);
                    break;
                }
                case "restart": {
                    Struct s = new Struct(KafkaConfigBackingStore.RESTART_REQUEST_V0);
                    s.put(KafkaConfigBackingStore.INCLUDE_TASKS_FIELD_NAME, c.get("include_tasks").asBoolean());
                    s.put(KafkaConfigBackingStore.ONLY_FAILED_FIELD_NAME, c.get("only_failed").asBoolean());
                    b = converter.fromConnectData("t", s.schema(), s);
                    break;
                }
                case "task-count": {
                    Struct s = new Struct(KafkaConfigBackingStore.TASK_COUNT_RECORD_V0);
                    s.put("task-count", c.get("count").asInt());
                    b = converter.fromConnectData("t", s.schema(), s);
                    break;
                }
                case "connector-status": {
                    String trace = c.get("trace").isNull() ? null : c.get("trace").asText();
                    String version = c.get("version").isNull() ? null : c.get("version").asText();
                    b = (byte[]) status.invoke(statuses, new ConnectorStatus(c.get("name").asText(),
                        AbstractStatus.State.valueOf(c.get("state").asText()), trace, c.get("worker").asText(),
                        c.get("generation").asInt(), version));
                    break;
                }
                case "task-status": {
                    String trace = c.get("trace").isNull() ? null : c.get("trace").asText();
                    String version = c.get("version").isNull() ? null : c.get("version").asText();
                    b = (byte[]) status.invoke(statuses, new TaskStatus(new ConnectorTaskId(c.get("name").asText(), 0),
                        AbstractStatus.State.valueOf(c.get("state").asText()), c.get("worker").asText(),
                        c.get("generation").asInt(), trace, version));
                    break;
                }
                case "topic-status":
                    b = (byte[]) topicStatus.invoke(statuses, new TopicStatus(c.get("topic").asText(),
                        c.get("name").asText(), c.get("task").asInt(), c.get("timestamp").asLong()));
                    break;
                case "offset-key":  // OffsetStorageWriter: keyConverter.fromConnectData(namespace, null, [namespace, partition])
                    b = converter.fromConnectData(c.get("name").asText(), null,
                        Arrays.asList(c.get("name").asText(), plain(c.get("partition"))));
                    break;
                case "offset-value":
                    b = converter.fromConnectData(c.get("name").asText(), null, plain(c.get("offset")));
                    break;
                default:
                    throw new IllegalArgumentException(c.toString());
            }
            out.add(b == null ? null : Base64.getEncoder().encodeToString(b));
        }
        System.out.print(new ObjectMapper().writeValueAsString(out));
    }
}
