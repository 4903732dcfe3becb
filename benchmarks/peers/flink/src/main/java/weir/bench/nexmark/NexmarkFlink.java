package weir.bench.nexmark;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Runs one Nexmark query on Apache Flink in a local MiniCluster (parallelism 1, heap state
 * backend, object reuse on), started once per process: a warm-up run, then the measured runs.
 * Prints one line {@code NEXMARK_RESULT {json}} per query with, per run, wall ms, process CPU ms (all
 * threads, from the JVM's OperatingSystemMXBean), result count and checksum, and the peak RSS.
 *
 * <pre>
 * java -jar weir-nexmark-flink.jar --queries q0,q5 --events 2000000 [--warmup 1] [--runs 1]
 *      [--seed 42] [--rate 10000] [--base-time 1767225600000] [--parallelism 1]
 * java -jar weir-nexmark-flink.jar --checksum-events 100000   (digest of the generated events)
 * </pre>
 */
public final class NexmarkFlink {
  private NexmarkFlink() {}

  /** Makes events from event numbers; the generator (with its 128 KiB of text) is built per reader. */
  static final class EventFunction implements GeneratorFunction<Long, Event> {
    private static final long serialVersionUID = 1L;
    private final GeneratorConfig config;
    private transient NexmarkGenerator gen;

    EventFunction(GeneratorConfig config) {
      this.config = config;
    }

    @Override
    public void open(SourceReaderContext ctx) {
      gen = new NexmarkGenerator(config);
    }

    @Override
    public Event map(Long n) {
      return gen.eventAt(n);
    }
  }

  public static void main(String[] args) throws Exception {
    String queries = "q0";
    long events = 1_000_000;
    int warmup = 1;
    int runs = 1;
    int parallelism = 1;
    long checksumEvents = -1;
    GeneratorConfig config = new GeneratorConfig();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = i + 1 < args.length ? args[i + 1] : "";
      switch (a) {
        case "--query":
        case "--queries": queries = v; i++; break;
        case "--events": events = Long.parseLong(v.replace("_", "")); i++; break;
        case "--warmup": warmup = Integer.parseInt(v); i++; break;
        case "--runs": runs = Integer.parseInt(v); i++; break;
        case "--seed": config.seed = Integer.parseInt(v); i++; break;
        case "--rate": config.eventsPerSecond = Double.parseDouble(v); i++; break;
        case "--base-time": config.baseTime = Long.parseLong(v); i++; break;
        case "--parallelism": parallelism = Integer.parseInt(v); i++; break;
        case "--checksum-events": checksumEvents = Long.parseLong(v); i++; break;
        default: throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    if (checksumEvents >= 0) {
      System.out.println("NEXMARK_EVENTS " + eventChecksum(config, checksumEvents));
      return;
    }

    Configuration conf = new Configuration();
    conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
    conf.set(PipelineOptions.OBJECT_REUSE, true);
    conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
    MiniClusterConfiguration mcc =
        new MiniClusterConfiguration.Builder()
            .setConfiguration(conf)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(parallelism)
            .build();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (MiniCluster cluster = new MiniCluster(mcc)) {
      cluster.start();
      for (String query : queries.split(",")) {
        List<String> measured = new ArrayList<>();
        for (int r = 0; r < warmup + runs; r++) {
          StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
          env.setParallelism(parallelism);
          DataGeneratorSource<Event> source =
              new DataGeneratorSource<>(new EventFunction(config), events, TypeInformation.of(Event.class));
          DataStream<Event> stream =
              env.fromSource(
                  source,
                  WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ofMillis(4_000)).withTimestampAssigner((e, t) -> e.dateTime),
                  "Nexmark");
          Queries.build(query, stream);
          JobGraph job = env.getStreamGraph().getJobGraph();
          BlackholeSink.reset();
          System.gc();
          long cpu0 = os.getProcessCpuTime();
          long t0 = System.nanoTime();
          cluster.executeJobBlocking(job);
          double wallMs = (System.nanoTime() - t0) / 1e6;
          double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
          if (r >= warmup) {
            measured.add(
                String.format(
                    "{\"wallMs\":%.3f,\"cpuMs\":%.3f,\"count\":%d,\"checksum\":%d}",
                    wallMs, cpuMs, BlackholeSink.count, Integer.toUnsignedLong(BlackholeSink.checksum)));
          }
        }
        System.out.println(
            "NEXMARK_RESULT {\"query\":\"" + query + "\",\"events\":" + events
                + ",\"runs\":[" + String.join(",", measured) + "]"
                + ",\"peakRssMb\":" + peakRssMb()
                + ",\"flinkVersion\":\"" + EnvironmentInformation.getVersion() + "\""
                + ",\"javaVersion\":\"" + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + "\"}");
        System.out.flush();
      }
    }
    System.out.flush();
    // MiniCluster leaves non-daemon threads behind on some versions: do not wait for them.
    System.exit(0);
  }

  /** VmHWM of this process, MB (-1 where /proc is missing). */
  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (Exception e) {
      // not Linux
    }
    return -1;
  }

  /** Digest of the first {@code n} events, to check that both generators agree. */
  static String eventChecksum(GeneratorConfig config, long n) {
    NexmarkGenerator gen = new NexmarkGenerator(config);
    int sum = 0;
    for (long i = 0; i < n; i++) sum += EventDigest.of(gen.eventAt(i));
    return Long.toString(Integer.toUnsignedLong(sum));
  }
}
