// Runs records through Kafka's own JsonConverter and transformation chain; compiled at test time
// (tests/unit/test_transforms_differential.py). Input: one JSON case per line on stdin,
// {"config": {...connector transforms/predicates keys...}, "schemas": true, "records": [{"topic", "partition",
// "offset", "timestamp", "key", "value", "headers": [[k, v]]}]}. Output: one JSON line per case, a list with per
// record {"topic", "key", "value", "headers"} (converter bytes as text), {"dropped": true} or {"error": message}.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class TransformHarness {
    static Map<String, String> prefixed(Map<String, String> config, String prefix) {
        Map<String, String> out = new HashMap<>();
        for (Map.Entry<String, String> e : config.entrySet())
            if (e.getKey().startsWith(prefix)) out.put(e.getKey().substring(prefix.length()), e.getValue());
        return out;
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        SimpleHeaderConverter headerConverter = new SimpleHeaderConverter();
        String line;
        while ((line = in.readLine()) != null) {
            JsonNode c = mapper.readTree(line);
            Map<String, String> config = new LinkedHashMap<>();
            c.get("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            Map<String, Object> convConfig = new HashMap<>();
            convConfig.put("schemas.enable", c.get("schemas").asBoolean());
            JsonConverter keyConverter = new JsonConverter();
            keyConverter.configure(convConfig, true);
            JsonConverter valueConverter = new JsonConverter();
            valueConverter.configure(convConfig, false);
            ArrayNode results = mapper.createArrayNode();
            List<Object[]> stages = new ArrayList<>();
            org.apache.kafka.connect.storage.StringConverter stringOutput = null;
            if (c.has("string_output")) {  // the values written by a StringConverter instead (Java's toString)
                stringOutput = new org.apache.kafka.connect.storage.StringConverter();
                stringOutput.configure(Collections.emptyMap(), false);
            }
            try {
                for (String alias : config.getOrDefault("transforms", "").split(",")) {
                    alias = alias.trim();
                    if (alias.isEmpty()) continue;
                    Map<String, String> props = prefixed(config, "transforms." + alias + ".");
                    Transformation<SinkRecord> t = (Transformation<SinkRecord>) Class.forName(props.remove("type"))
                        .getDeclaredConstructor().newInstance();
                    String pred = props.remove("predicate");
                    String negate = props.remove("negate");
                    t.configure(props);
                    Predicate<SinkRecord> p = null;
                    if (pred != null) {
                        Map<String, String> pprops = prefixed(config, "predicates." + pred + ".");
                        p = (Predicate<SinkRecord>) Class.forName(pprops.remove("type")).getDeclaredConstructor().newInstance();
                        p.configure(pprops);
                    }
                    stages.add(new Object[]{t, p, "true".equals(negate)});
                }
            } catch (Exception e) {
                ObjectNode err = mapper.createObjectNode();
                err.put("config_error", String.valueOf(e.getMessage()));
                results.add(err);
                System.out.println(mapper.writeValueAsString(results));
                continue;
            }
            for (JsonNode r : c.get("records")) {
                ObjectNode out = mapper.createObjectNode();
                try {
                    String topic = r.get("topic").asText();
                    byte[] k = r.get("key").isNull() ? null : r.get("key").asText().getBytes(StandardCharsets.UTF_8);
                    byte[] v = r.get("value").isNull() ? null : r.get("value").asText().getBytes(StandardCharsets.UTF_8);
                    SchemaAndValue key = keyConverter.toConnectData(topic, k);
                    SchemaAndValue value = valueConverter.toConnectData(topic, v);
                    ConnectHeaders headers = new ConnectHeaders();
                    if (r.has("headers"))
                        for (JsonNode h : r.get("headers")) headers.addString(h.get(0).asText(), h.get(1).isNull() ? null : h.get(1).asText());
                    Long ts = r.get("timestamp").isNull() ? null : r.get("timestamp").asLong();
                    SinkRecord record = new SinkRecord(topic, r.get("partition").asInt(), key.schema(), key.value(),
                        value.schema(), value.value(), r.get("offset").asLong(), ts, TimestampType.CREATE_TIME, headers);
                    for (Object[] s : stages) {
                        Predicate<SinkRecord> p = (Predicate<SinkRecord>) s[1];
                        if (p == null || ((Boolean) s[2] ^ p.test(record)))
                            record = ((Transformation<SinkRecord>) s[0]).apply(record);
                        if (record == null) break;
                    }
                    if (record == null) {
                        out.put("dropped", true);
                    } else {
                        out.put("topic", record.topic());
                        byte[] ko = keyConverter.fromConnectData(record.topic(), record.keySchema(), record.key());
                        byte[] vo = (stringOutput != null ? stringOutput : valueConverter)
                            .fromConnectData(record.topic(), record.valueSchema(), record.value());
                        out.put("key", ko == null ? null : new String(ko, StandardCharsets.UTF_8));
                        out.put("value", vo == null ? null : new String(vo, StandardCharsets.UTF_8));
                        ArrayNode hs = out.putArray("headers");
                        for (Header h : record.headers()) {
                            byte[] hb = headerConverter.fromConnectHeader(record.topic(), h.key(), h.schema(), h.value());
                            ArrayNode pair = hs.addArray();
                            pair.add(h.key());
                            pair.add(hb == null ? null : new String(hb, StandardCharsets.UTF_8));
                        }
                    }
                } catch (Exception e) {
                    out.put("error", String.valueOf(e.getMessage()));
                }
                results.add(out);
            }
            System.out.println(mapper.writeValueAsString(results));
        }
    }
}
