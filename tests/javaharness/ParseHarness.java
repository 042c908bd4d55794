// Runs text through the parsers of java.util.Properties and Apache Kafka's ConfigDef, ConfigTransformer and
// JaasConfig, for tests/unit/test_parsers_differential.py. Reads a JSON list of cases on stdin, writes one answer each:
//   {"kind": "props", "text": T}                 -> {"map": {k: v}} or {"error": message}
//   {"kind": "parse", "type": TYPE, "value": V}  -> {"value": parsed} (DOUBLE: {"bits": raw long bits}) or {"error"}
//   {"kind": "transform", "configs": {k: v}}     -> {"configs": {k: v}}, providers "p" and "q" as TestProvider
//   {"kind": "jaas", "text": T}                  -> {"modules": [[name, flag, {options}]]} or {"error": message}
//   {"kind": "string", "encoding": E, "decode": base64 | "encode": T} -> StringConverter's {"value": T} | {"b64"}
//   {"kind": "jaasfile", "text": T, "names": [N]} -> {"sections": {N: modules}} for the names it has, or {"error"}
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.StringReader;
import java.util.*;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigTransformer;
import org.apache.kafka.common.config.provider.ConfigProvider;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;

public class ParseHarness {
    static final ObjectMapper M = new ObjectMapper();

    /** Values "<name>|<path>|<key>" for every key but those starting with "x" (left out: unresolved). */
    public static class TestProvider implements ConfigProvider {
        final String name;
        TestProvider(String name) { this.name = name; }
        public void configure(Map<String, ?> configs) {}
        public ConfigData get(String path) { return new ConfigData(new HashMap<>()); }
        public ConfigData get(String path, Set<String> keys) {
            Map<String, String> data = new HashMap<>();
            for (String k : keys) if (!k.startsWith("x")) data.put(k, name + "|" + path + "|" + k);
            return new ConfigData(data);
        }
        public void close() {}
    }

    static ObjectNode error(Throwable e) {
        ObjectNode out = M.createObjectNode();
        out.put("error", String.valueOf(e.getMessage()));
        out.put("class", e.getClass().getName());
        return out;
    }

    /** A ConfigKey as AbstractHerder.convertConfigKey shows it. */
    static ObjectNode definition(ObjectNode key, ConfigDef.ConfigKey k) {
        key.put("name", k.name);
        key.put("type", k.type.name());
        if (k.hasDefault()) key.put("default", ConfigDef.convertToString(k.defaultValue, k.type));
        key.put("importance", k.importance.name());
        key.put("documentation", k.documentation);
        key.put("group", k.group);
        key.put("order", k.orderInGroup);
        key.put("width", k.width.name());
        key.put("display_name", k.displayName);
        ArrayNode dependents = key.putArray("dependents");
        for (String d : k.dependents) dependents.add(d);
        return key;
    }

    /** A validator as data: a Range's bounds, a ValidString's or CaseInsensitiveValidString's strings (in their
     * iteration order), else its class; with its toString. */
    static ObjectNode validator(ConfigDef.Validator v) throws Exception {
        if (v == null) return null;
        ObjectNode out = M.createObjectNode();
        out.put("text", v.toString());
        String kind = v.getClass().getSimpleName();
        out.put("kind", kind);
        if (v instanceof ConfigDef.Range) {
            for (String bound : new String[] {"min", "max"}) {
                java.lang.reflect.Field f = ConfigDef.Range.class.getDeclaredField(bound);
                f.setAccessible(true);
                Number n = (Number) f.get(v);
                if (n != null) out.put(bound, n.toString());
            }
        } else if (v instanceof ConfigDef.ValidString || v instanceof ConfigDef.CaseInsensitiveValidString) {
            java.lang.reflect.Field f = v.getClass().getDeclaredField("validStrings");
            f.setAccessible(true);
            ArrayNode values = out.putArray("values");
            for (Object o : (java.util.Collection<?>) f.get(v)) values.add(String.valueOf(o));
        }
        return out;
    }

    /** [name, flag, {options}]; an option keyed null (Kafka's for a key that is a number) is left out. */
    static void module(ArrayNode modules, AppConfigurationEntry e) {
        ArrayNode m = modules.addArray();
        m.add(e.getLoginModuleName());
        String flag = e.getControlFlag().toString();
        m.add(flag.substring(flag.lastIndexOf(' ') + 1));
        ObjectNode opts = m.addObject();
        for (Map.Entry<String, ?> o : e.getOptions().entrySet())
            if (o.getKey() != null) opts.put(o.getKey(), String.valueOf(o.getValue()));
    }

    static ObjectNode answer(JsonNode c) {
        ObjectNode out = M.createObjectNode();
        String kind = c.get("kind").asText();
        try {
            switch (kind) {
                case "props": {
                    Properties p = new Properties();
                    p.load(new StringReader(c.get("text").asText()));
                    ObjectNode map = out.putObject("map");
                    for (String k : p.stringPropertyNames()) map.put(k, p.getProperty(k));
                    return out;
                }
                case "parse": {
                    ConfigDef.Type type = ConfigDef.Type.valueOf(c.get("type").asText());
                    Object v = ConfigDef.parseType("k", c.get("value").asText(), type);
                    if (v instanceof Double) out.put("bits", Long.toString(Double.doubleToRawLongBits((Double) v)));
                    else if (v instanceof List) {
                        ArrayNode l = out.putArray("value");
                        for (Object x : (List<?>) v) l.add(String.valueOf(x));
                    } else if (v instanceof Password) out.put("value", ((Password) v).value());
                    else if (v instanceof Boolean) out.put("value", (Boolean) v);
                    else if (v instanceof Number) out.put("value", ((Number) v).longValue());
                    else out.put("value", String.valueOf(v));
                    return out;
                }
                case "transform": {
                    Map<String, ConfigProvider> providers = new HashMap<>();
                    providers.put("p", new TestProvider("p"));
                    providers.put("q", new TestProvider("q"));
                    Map<String, String> configs = new LinkedHashMap<>();
                    c.get("configs").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText()));
                    Map<String, String> data = new ConfigTransformer(providers).transform(configs).data();
                    ObjectNode map = out.putObject("configs");
                    for (Map.Entry<String, String> e : data.entrySet()) map.put(e.getKey(), e.getValue());
                    return out;
                }
                case "jaas": {
                    Map<String, Object> configs = new HashMap<>();
                    configs.put("sasl.jaas.config", new Password(c.get("text").asText()));
                    JaasContext context = JaasContext.loadClientContext(configs);
                    ArrayNode modules = out.putArray("modules");
                    for (AppConfigurationEntry e : context.configurationEntries()) module(modules, e);
                    return out;
                }
                case "jaasfile": {
                    java.nio.file.Path file = java.nio.file.Files.createTempFile("jaas", ".conf");
                    try {
                        java.nio.file.Files.writeString(file, c.get("text").asText());
                        com.sun.security.auth.login.ConfigFile config = new com.sun.security.auth.login.ConfigFile(file.toUri());
                        ObjectNode sections = out.putObject("sections");
                        for (JsonNode name : c.get("names")) {
                            AppConfigurationEntry[] entries = config.getAppConfigurationEntry(name.asText());
                            if (entries == null) continue;
                            ArrayNode modules = sections.putArray(name.asText());
                            for (AppConfigurationEntry e : entries) module(modules, e);
                        }
                    } finally {
                        java.nio.file.Files.delete(file);
                    }
                    return out;
                }
                case "string": {
                    org.apache.kafka.connect.storage.StringConverter conv = new org.apache.kafka.connect.storage.StringConverter();
                    Map<String, Object> configs = new HashMap<>();
                    configs.put("converter.encoding", c.get("encoding").asText());
                    conv.configure(configs, false);
                    if (c.has("decode")) {
                        byte[] data = Base64.getDecoder().decode(c.get("decode").asText());
                        out.put("value", (String) conv.toConnectData("t", data).value());
                    } else if (c.has("encode")) {
                        out.put("b64", Base64.getEncoder().encodeToString(conv.fromConnectData("t", null, c.get("encode").asText())));
                    }
                    return out;
                }
                case "configkeys": {  // a worker config class's ConfigDef (private): its keys
                    Class<?> cls = Class.forName(c.get("class").asText());
                    ConfigDef def;
                    if (c.has("field")) {
                        java.lang.reflect.Field f = cls.getDeclaredField(c.get("field").asText());
                        f.setAccessible(true);
                        def = (ConfigDef) f.get(null);
                    } else {  // DistributedConfig.config(Crypto.SYSTEM)
                        Class<?> crypto = Class.forName("org.apache.kafka.connect.runtime.distributed.Crypto");
                        java.lang.reflect.Method m = cls.getDeclaredMethod("config", crypto);
                        m.setAccessible(true);
                        def = (ConfigDef) m.invoke(null, crypto.getField("SYSTEM").get(null));
                    }
                    ObjectNode keys = out.putObject("keys");
                    ArrayNode definitions = out.putArray("definitions");  // as clientkeys lists them, validators too
                    for (ConfigDef.ConfigKey k : def.configKeys().values()) {
                        ObjectNode key = keys.putObject(k.name);
                        key.put("type", k.type.name());
                        key.put("default", k.hasDefault() ? ConfigDef.convertToString(k.defaultValue, k.type) : "<none>");
                        key.put("importance", k.importance.name());
                        key.put("validator", k.validator == null ? null : k.validator.toString());
                        ObjectNode d = definition(definitions.addObject(), k);
                        d.set("validator", validator(k.validator));
                    }
                    return out;
                }
                case "clientkeys": {  // a client's ConfigDef (ProducerConfig.configDef() ...): every key, in order
                    Class<?> cls = Class.forName(c.get("class").asText());
                    ConfigDef def = (ConfigDef) cls.getMethod("configDef").invoke(null);
                    ArrayNode keys = out.putArray("keys");
                    for (ConfigDef.ConfigKey k : def.configKeys().values()) definition(keys.addObject(), k);
                    return out;
                }
                case "clientparse": {  // AbstractHerder.validateClientOverrides' parse of one override value
                    Class<?> cls = Class.forName(c.get("class").asText());
                    ConfigDef def = (ConfigDef) cls.getMethod("configDef").invoke(null);
                    String name = c.get("name").asText();
                    ConfigDef.ConfigKey key = def.configKeys().get(name);
                    Object parsed = ConfigDef.parseType(name, c.get("value").asText(), key.type);
                    out.put("value", ConfigDef.convertToString(parsed, key.type));
                    return out;
                }
                case "policy": {  // a ConnectorClientConfigOverridePolicy's verdict on client overrides
                    org.apache.kafka.connect.connector.policy.ConnectorClientConfigOverridePolicy policy =
                        (org.apache.kafka.connect.connector.policy.ConnectorClientConfigOverridePolicy)
                            Class.forName(c.get("class").asText()).getDeclaredConstructor().newInstance();
                    policy.configure(new HashMap<>());
                    Map<String, Object> props = new java.util.LinkedHashMap<>();
                    c.get("props").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
                    ArrayNode values = out.putArray("values");
                    for (org.apache.kafka.common.config.ConfigValue v : policy.validate(
                            new org.apache.kafka.connect.connector.policy.ConnectorClientConfigRequest(
                                "c", org.apache.kafka.connect.health.ConnectorType.SINK, null, props,
                                org.apache.kafka.connect.connector.policy.ConnectorClientConfigRequest.ClientType.CONSUMER))) {
                        values.add(v.toString());
                    }
                    return out;
                }
                case "regex": {  // Pattern.compile (else PatternSyntaxException's message), then matches() of each input
                    java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(c.get("pattern").asText());
                    ArrayNode matches = out.putArray("matches");
                    for (JsonNode input : c.get("inputs")) matches.add(pattern.matcher(input.asText()).matches());
                    return out;
                }
                case "workerconfig": {  // a worker's config from properties: parsed values, or the error
                    Map<String, String> props = new HashMap<>();
                    c.get("props").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
                    org.apache.kafka.common.config.AbstractConfig config = c.get("distributed").asBoolean()
                        ? new org.apache.kafka.connect.runtime.distributed.DistributedConfig(props)
                        : new org.apache.kafka.connect.runtime.standalone.StandaloneConfig(props);
                    ObjectNode values = out.putObject("values");
                    for (JsonNode name : c.get("names")) {
                        Object v = config.values().get(name.asText());
                        ConfigDef.Type type = config.typeOf(name.asText());
                        values.put(name.asText(), v == null ? null : type == ConfigDef.Type.PASSWORD ? ((Password) v).value() : ConfigDef.convertToString(v, type));
                    }
                    return out;
                }
                default:
                    throw new IllegalArgumentException("unknown kind " + kind);
            }
        } catch (Exception e) {
            return error(e);
        }
    }

    public static void main(String[] args) throws Exception {
        M.getFactory().enable(com.fasterxml.jackson.core.json.JsonWriteFeature.ESCAPE_NON_ASCII.mappedFeature());
        JsonNode cases = M.readTree(System.in);  // (escaped output keeps lone surrogates, which UTF-8 cannot)
        ArrayNode out = M.createArrayNode();
        for (JsonNode c : cases) out.add(answer(c));
        System.out.println(M.writeValueAsString(out));
    }
}
