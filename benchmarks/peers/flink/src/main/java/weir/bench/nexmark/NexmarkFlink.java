package weir.bench.nexmark;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
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
 * Runs Nexmark queries on Apache Flink in a local MiniCluster (parallelism 1, heap state
 * backend, object reuse on), started once per process. Each query warms up (at least
 * {@code --warmup} runs and {@code --warmup-seconds} of wall-clock time), then is measured: wall
 * ms, process CPU ms (all threads, from the JVM's OperatingSystemMXBean), result count and
 * checksum per run, and the process's peak RSS.
 *
 * <pre>
 * java -jar weir-nexmark-flink.jar --queries q0,q5 --events 2000000 [--warmup 1] [--warmup-seconds 0]
 *      [--runs 1] [--seed 42] [--rate 10000] [--base-time 1767225600000] [--parallelism 1]
 *   prints NEXMARK_RESULT {json} per query
 * java -jar weir-nexmark-flink.jar --interactive --queries q5 --events 2000000 ...
 *   warms up, prints NEXMARK_READY; then per stdin line "run" one measured run (NEXMARK_RUN {json});
 *   on "quit" NEXMARK_DONE {peak RSS, versions}
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
    double warmupSeconds = 0;
    int runs = 1;
    int parallelism = 1;
    boolean interactive = false;
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
        case "--warmup-seconds": warmupSeconds = Double.parseDouble(v); i++; break;
        case "--runs": runs = Integer.parseInt(v); i++; break;
        case "--seed": config.seed = Integer.parseInt(v); i++; break;
        case "--rate": config.eventsPerSecond = Double.parseDouble(v); i++; break;
        case "--base-time": config.baseTime = Long.parseLong(v); i++; break;
        case "--parallelism": parallelism = Integer.parseInt(v); i++; break;
        case "--interactive": interactive = true; break;
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
    // Any free port for the MiniCluster's REST endpoint: with the default 8081, two runs on one
    // machine (a test beside a benchmark) would collide and the second would hang.
    conf.set(RestOptions.BIND_PORT, "0");
    MiniClusterConfiguration mcc =
        new MiniClusterConfiguration.Builder()
            .setConfiguration(conf)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(parallelism)
            .build();
    String versions =
        "\"flinkVersion\":\"" + EnvironmentInformation.getVersion() + "\""
            + ",\"javaVersion\":\"" + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + "\"";
    try (MiniCluster cluster = new MiniCluster(mcc)) {
      cluster.start();
      Runner runner = new Runner(cluster, conf, config, events, parallelism);
      if (interactive) {
        // One query: warm up, say so, then one measured run per "run" line until "quit".
        String query = queries.split(",")[0];
        runner.warmUp(query, warmup, warmupSeconds);
        System.out.println("NEXMARK_READY {\"query\":\"" + query + "\"}");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
          if (line.trim().equals("run")) {
            System.out.println("NEXMARK_RUN " + runner.run(query));
            System.out.flush();
          } else if (line.trim().equals("quit")) {
            break;
          }
        }
        System.out.println("NEXMARK_DONE {\"peakRssMb\":" + peakRssMb() + "," + versions + "}");
        System.out.flush();
      } else {
        for (String query : queries.split(",")) {
          runner.warmUp(query, warmup, warmupSeconds);
          List<String> measured = new ArrayList<>();
          for (int r = 0; r < runs; r++) measured.add(runner.run(query));
          System.out.println(
              "NEXMARK_RESULT {\"query\":\"" + query + "\",\"events\":" + events
                  + ",\"runs\":[" + String.join(",", measured) + "]"
                  + ",\"peakRssMb\":" + peakRssMb() + "," + versions + "}");
          System.out.flush();
        }
      }
    }
    // MiniCluster leaves non-daemon threads behind on some versions: do not wait for them.
    System.exit(0);
  }

  /** Builds and runs jobs on one MiniCluster, measuring each. */
  static final class Runner {
    private final MiniCluster cluster;
    private final Configuration conf;
    private final GeneratorConfig config;
    private final long events;
    private final int parallelism;
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    Runner(MiniCluster cluster, Configuration conf, GeneratorConfig config, long events, int parallelism) {
      this.cluster = cluster;
      this.conf = conf;
      this.config = config;
      this.events = events;
      this.parallelism = parallelism;
    }

    /** At least {@code runs} runs and at least {@code seconds} of wall-clock time. */
    void warmUp(String query, int runs, double seconds) throws Exception {
      long t0 = System.nanoTime();
      for (int r = 0; r < runs || (System.nanoTime() - t0) / 1e9 < seconds; r++) run(query);
    }

    /**
     * One job: wall ms, process CPU ms (all threads), result count and checksum, as JSON. Query
     * {@code gen} is no job but the generator alone in a loop: the baseline of loop.ts's
     * {@code runGeneratorOnly}.
     */
    String run(String query) throws Exception {
      if (query.equals("gen")) return generatorOnly();
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
      long count = BlackholeSink.count;
      int checksum = BlackholeSink.checksum;
      // The generator alone over the same events, right after, in this JVM: the paired baseline.
      System.gc();
      long g0 = os.getProcessCpuTime();
      generatorChecksum();
      double genCpuMs = (os.getProcessCpuTime() - g0) / 1e6;
      return String.format(
          "{\"wallMs\":%.3f,\"cpuMs\":%.3f,\"count\":%d,\"checksum\":%d,\"genCpuMs\":%.3f}",
          wallMs, cpuMs, count, Integer.toUnsignedLong(checksum), genCpuMs);
    }

    private int generatorChecksum() {
      NexmarkGenerator gen = new NexmarkGenerator(config);
      int checksum = 0;
      for (long n = 0; n < events; n++) checksum += (int) gen.eventAt(n).dateTime;
      return checksum;
    }

    private String generatorOnly() {
      System.gc();
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      int checksum = generatorChecksum();
      double wallMs = (System.nanoTime() - t0) / 1e6;
      double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6;
      return String.format(
          "{\"wallMs\":%.3f,\"cpuMs\":%.3f,\"count\":%d,\"checksum\":%d}", wallMs, cpuMs, events, Integer.toUnsignedLong(checksum));
    }
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
