import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.stats.Avg;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Frequencies;
import org.apache.kafka.common.metrics.stats.Max;
import org.apache.kafka.common.metrics.stats.Rate;

/**
 * Reads cases [{"window_ms", "samples", "steps": [["record", t, v] | ["measure", t]]}] on stdin and prints, per
 * measure step, what Kafka's Rate, Avg, Max, CumulativeSum and boolean Frequencies answer (NaN/Infinity as strings).
 */
public class MetricStatsHarness {
    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode cases = mapper.readTree(System.in);
        ArrayNode out = mapper.createArrayNode();
        for (JsonNode c : cases) {
            MetricConfig config = new MetricConfig()
                .timeWindow(c.get("window_ms").asLong(), TimeUnit.MILLISECONDS)
                .samples(c.get("samples").asInt());
            Rate rate = new Rate();
            Avg avg = new Avg();
            Max max = new Max();
            CumulativeSum total = new CumulativeSum();
            MetricName no = new MetricName("false", "g", "", Collections.emptyMap());
            MetricName yes = new MetricName("true", "g", "", Collections.emptyMap());
            Frequencies freq = Frequencies.forBooleanValues(no, yes);
            ArrayNode results = mapper.createArrayNode();
            for (JsonNode step : c.get("steps")) {
                long t = step.get(1).asLong();
                if (step.get(0).asText().equals("record")) {
                    double v = step.get(2).asDouble();
                    rate.record(config, v, t);
                    avg.record(config, v, t);
                    max.record(config, v, t);
                    total.record(config, v, t);
                    freq.record(config, v, t);
                } else {
                    ObjectNode r = mapper.createObjectNode();
                    r.put("rate", text(rate.measure(config, t)));
                    r.put("avg", text(avg.measure(config, t)));
                    r.put("max", text(max.measure(config, t)));
                    r.put("total", text(total.measure(config, t)));
                    r.put("true", text(freq.frequency(config, t, 1.0)));
                    r.put("false", text(freq.frequency(config, t, 0.0)));
                    results.add(r);
                }
            }
            out.add(results);
        }
        System.out.println(mapper.writeValueAsString(out));
    }

    private static String text(double d) {
        return Double.toString(d);
    }
}
