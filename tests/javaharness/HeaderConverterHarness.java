// Runs header values through Apache Kafka's own SimpleHeaderConverter, for tests/unit/test_simple_header_converter.py.
// Reads a JSON list of cases on stdin: {"write": {"schema": S|null, "value": V}} (fromConnectHeader: the bytes, as
// base64 or null) or {"read": base64|null} (toConnectHeader: the schema found, the value as tagged JSON, and the
// bytes fromConnectHeader writes for them again). S: {"type", "optional", "logical" ("decimal" with "scale",
// "date", "time", "timestamp"), "items", "keys", "values", "fields": [[name, S]]}. V: {"t": tag, "v": value}.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.*;
import org.apache.kafka.connect.data.*;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;

public class HeaderConverterHarness {
    static final ObjectMapper M = new ObjectMapper();

    static Schema schema(JsonNode s) {
        if (s == null || s.isNull()) return null;
        SchemaBuilder b;
        String logical = s.path("logical").asText("");
        switch (logical) {
            case "decimal": b = Decimal.builder(s.get("scale").asInt()); break;
            case "date": b = org.apache.kafka.connect.data.Date.builder(); break;
            case "time": b = Time.builder(); break;
            case "timestamp": b = Timestamp.builder(); break;
            default:
                String type = s.get("type").asText();
                switch (type) {
                    case "array": b = SchemaBuilder.array(schema(s.get("items"))); break;
                    case "map": b = SchemaBuilder.map(schema(s.get("keys")), schema(s.get("values"))); break;
                    case "struct":
                        b = SchemaBuilder.struct();
                        for (JsonNode f : s.get("fields")) b.field(f.get(0).asText(), schema(f.get(1)));
                        break;
                    default: b = SchemaBuilder.type(Schema.Type.valueOf(type.toUpperCase(Locale.ROOT)));
                }
        }
        if (s.path("optional").asBoolean(false)) b.optional();
        return b.build();
    }

    static Object value(JsonNode v) {
        String t = v.get("t").asText();
        JsonNode x = v.get("v");
        switch (t) {
            case "null": return null;
            case "int8": return (byte) x.asInt();
            case "int16": return (short) x.asInt();
            case "int32": return x.asInt();
            case "int64": return x.asLong();
            case "float32": return Float.parseFloat(x.asText());
            case "float64": return Double.parseDouble(x.asText());
            case "bool": return x.asBoolean();
            case "str": return x.asText();
            case "bytes": return Base64.getDecoder().decode(x.asText());
            case "dec": return new BigDecimal(x.asText());
            case "date": return new java.util.Date(x.asLong());
            case "list": { List<Object> l = new ArrayList<>(); for (JsonNode e : x) l.add(value(e)); return l; }
            case "map": {
                Map<Object, Object> m = new LinkedHashMap<>();
                for (JsonNode e : x) m.put(value(e.get(0)), value(e.get(1)));
                return m;
            }
            case "struct": {
                Schema s = schema(v.get("schema"));
                Struct st = new Struct(s);
                for (Field f : s.fields()) st.put(f, value(x.get(f.name())));
                return st;
            }
            default: throw new IllegalArgumentException(t);
        }
    }

    static JsonNode describeSchema(Schema s) {
        if (s == null) return M.nullNode();
        ObjectNode o = M.createObjectNode();
        o.put("type", s.type().getName());
        o.put("name", s.name());
        o.put("optional", s.isOptional());
        if (s.type() == Schema.Type.ARRAY || s.type() == Schema.Type.MAP) o.set("values", describeSchema(s.valueSchema()));
        if (s.type() == Schema.Type.MAP) o.set("keys", describeSchema(s.keySchema()));
        return o;
    }

    static JsonNode describeValue(Object v) {
        ObjectNode o = M.createObjectNode();
        String t;
        if (v == null) { o.put("t", "null"); return o; }
        else if (v instanceof Byte) { t = "int8"; o.put("v", (Byte) v); }
        else if (v instanceof Short) { t = "int16"; o.put("v", (Short) v); }
        else if (v instanceof Integer) { t = "int32"; o.put("v", (Integer) v); }
        else if (v instanceof Long) { t = "int64"; o.put("v", (Long) v); }
        else if (v instanceof Float) { t = "float32"; o.put("v", v.toString()); }
        else if (v instanceof Double) { t = "float64"; o.put("v", v.toString()); }
        else if (v instanceof Boolean) { t = "bool"; o.put("v", (Boolean) v); }
        else if (v instanceof String) { t = "str"; o.put("v", (String) v); }
        else if (v instanceof byte[]) { t = "bytes"; o.put("v", Base64.getEncoder().encodeToString((byte[]) v)); }
        else if (v instanceof BigDecimal) { t = "dec"; o.put("v", v.toString()); }
        else if (v instanceof java.util.Date) { t = "date"; o.put("v", ((java.util.Date) v).getTime()); }
        else if (v instanceof List) {
            t = "list";
            ArrayNode a = o.putArray("v");
            for (Object e : (List<?>) v) a.add(describeValue(e));
        } else if (v instanceof Map) {
            t = "map";
            ArrayNode a = o.putArray("v");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) a.addArray().add(describeValue(e.getKey())).add(describeValue(e.getValue()));
        } else { t = v.getClass().getName(); o.put("v", v.toString()); }
        o.put("t", t);
        return o;
    }

    static JsonNode b64(byte[] b) {
        return b == null ? M.nullNode() : M.getNodeFactory().textNode(Base64.getEncoder().encodeToString(b));
    }

    public static void main(String[] args) throws Exception {
        JsonNode cases = M.readTree(System.in);
        SimpleHeaderConverter c = new SimpleHeaderConverter();
        c.configure(Collections.emptyMap());
        ArrayNode out = M.createArrayNode();
        for (JsonNode k : cases) {
            try {
                if (k.has("write")) {
                    JsonNode w = k.get("write");
                    out.add(b64(c.fromConnectHeader("t", "h", schema(w.get("schema")), value(w.get("value")))));
                } else {
                    JsonNode r = k.get("read");
                    byte[] data = r.isNull() ? null : Base64.getDecoder().decode(r.asText());
                    SchemaAndValue sv = c.toConnectHeader("t", "h", data);
                    if (sv == null) sv = SchemaAndValue.NULL;  // as ConnectHeaders.add(key, null) takes it
                    ObjectNode o = M.createObjectNode();
                    o.set("schema", describeSchema(sv.schema()));
                    o.set("value", describeValue(sv.value()));
                    o.set("again", b64(c.fromConnectHeader("t", "h", sv.schema(), sv.value())));
                    out.add(o);
                }
            } catch (Exception e) {
                out.addObject().put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        System.out.println(M.writeValueAsString(out));
    }
}
