// A job module for the Kafka kill tests, run in a child process (tsx) by the tests:
//   Kafka input (JSON {id, k}) -> keyBy(k) -> running count per key (keyed state) -> Kafka output
// with checkpoints and `restore: 'latest'`, so a process killed at any moment and started again
// continues from its last checkpoint. Configured through WEIR_JOB_CONFIG (JSON, see JobConfig).
// Prints `progress <input offsets consumed>` lines, then `done` when the bounded input ended.
import { KafkaSink, type KafkaCommittable, KafkaSource } from '@weir/connectors';
import {
  AsyncDataStream,
  CheckpointStorage,
  type Collector,
  type Committer,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type RuntimeContext,
  type Sink,
  type SinkWriterContext,
  StreamEnvironment,
  type TwoPhaseCommittingSink,
  type ValueState,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@weir/core';

export interface JobConfig {
  brokers: string;
  input: string;
  output: string;
  groupId: string;
  txPrefix: string;
  checkpointDir: string;
  checkpointMs: number;
  parallelism: number;
  semantic: 'exactly-once' | 'at-least-once';
  /**
   * Slows the job down (so that kills land mid-way) without blocking the event loop: every
   * record waits `delayMs` in an async operator holding at most `capacity` records per subtask.
   */
  throttle?: { delayMs: number; capacity: number };
  /** Crash injection (SIGKILL of this very process) around the nth commit of this attempt. */
  crash?: { kind: 'before-commit' | 'after-commit' | 'mid-commit'; nth: number; delayMs?: number };
  /** Unbounded source (runs until killed). */
  unbounded?: boolean;
}

interface In {
  id: number;
  k: string;
}
interface Out {
  id: number;
  k: string;
  n: number;
}

const cfg = JSON.parse(process.env.WEIR_JOB_CONFIG ?? '{}') as JobConfig;

const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

class Count implements KeyedProcessFunction<string, In, Out> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  processElement(e: In, _ctx: KeyedProcessContext<string>, out: Collector<Out>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect({ id: e.id, k: e.k, n });
  }
}

/** Wraps the exactly-once sink's committer to kill the process around its nth commit. */
function crashing(inner: KafkaSink<Out>, crash: NonNullable<JobConfig['crash']>): TwoPhaseCommittingSink<Out, KafkaCommittable> {
  const createCommitter = inner.createCommitter as (ctx: SinkWriterContext) => Promise<Committer<KafkaCommittable>>;
  return {
    createWriter: (ctx) => inner.createWriter(ctx) as never,
    committableSerde: inner.committableSerde as NonNullable<KafkaSink<Out>['committableSerde']>,
    async createCommitter(ctx) {
      const c = await createCommitter(ctx);
      let n = 0;
      return {
        async commit(list) {
          const restored = list.filter((x) => x.attemptId !== ctx.attemptId);
          if (restored.length > 0) {
            console.log(`restored-commit ${restored.map((x) => `${x.attemptId}/${x.subtask}@${x.checkpointId}:${x.records.length}`).join(' ')}`);
          }
          const mine = list.some((x) => x.records.length > 0 && x.attemptId === ctx.attemptId);
          const hit = mine && ++n === crash.nth;
          if (hit && crash.kind === 'before-commit') {
            console.log('crash before-commit');
            die();
          }
          if (hit && crash.kind === 'mid-commit') {
            console.log('crash mid-commit');
            setTimeout(die, crash.delayMs ?? 3);
          }
          await c.commit(list);
          if (hit && crash.kind === 'after-commit') {
            console.log('crash after-commit');
            die();
          }
        },
        close: () => c.close?.(),
      };
    },
  };
}

const source = new KafkaSource<In>({
  brokers: cfg.brokers,
  topics: [cfg.input],
  groupId: cfg.groupId,
  ...(cfg.unbounded ? { partitionDiscoveryIntervalMs: 1_000 } : { bounded: 'latest' as const }),
});
const kafkaSink = new KafkaSink<Out>({
  brokers: cfg.brokers,
  topic: cfg.output,
  key: (o) => o.k,
  semantic: cfg.semantic,
  transactionalIdPrefix: cfg.txPrefix,
  // Long: a transaction left open by a crash must be ended by fencing, not by this timeout.
  transactionTimeoutMs: 120_000,
});
const sink: Sink<Out> = crashing(kafkaSink, cfg.crash ?? { kind: 'after-commit', nth: -1 });

// Diagnostics (printed to stdout, which the tests keep): the checkpoints found at start.
const found = await new CheckpointStorage(cfg.checkpointDir).list(true).catch(() => []);
console.log(`checkpoints ${found.map((c) => `${c.checkpointId}${c.complete ? '' : '(incomplete)'}`).join(' ')}`);

const env = StreamEnvironment.create({
  parallelism: cfg.parallelism,
  checkpoint: { dir: cfg.checkpointDir, intervalMs: cfg.checkpointMs },
  restore: 'latest',
  // Small exchange buffers: barriers do not queue behind thousands of (throttled) records.
  batchSize: 64,
  channelCapacity: 2,
  warn: (m) => console.log(`warn ${m}`),
});
let input = env.fromSource(source, WatermarkStrategy.noWatermarks<In>(), 'input').uid('input');
const throttle = cfg.throttle;
if (throttle !== undefined) {
  input = AsyncDataStream.orderedWait(
    input,
    { asyncInvoke: (e: In) => new Promise<In[]>((resolve) => setTimeout(() => resolve([e]), throttle.delayMs)) },
    { timeoutMs: Number.POSITIVE_INFINITY, capacity: throttle.capacity },
  ).uid('throttle');
}
input
  .keyBy((e) => e.k)
  .process(new Count())
  .uid('count')
  .sinkTo(sink)
  .uid('output');

let startsPrinted = false;
const progress = setInterval(() => {
  const m = source.metrics();
  const consumed = m.partitions.reduce((s, p) => s + p.offset, 0);
  const k = kafkaSink.metrics();
  if (!startsPrinted && m.partitions.length > 0) {
    startsPrinted = true;
    console.log(`starts ${m.partitions.map((p) => `${p.partition}=${p.offset - p.records}`).join(' ')}`);
  }
  console.log(`progress ${consumed} committed ${k.transactionsCommitted} recovered ${k.commitsRecovered} skipped ${k.commitsSkipped} fenced ${k.transactionsFenced}`);
}, 50);

try {
  await env.execute('kafka-kill-test');
  clearInterval(progress);
  console.log('done');
  process.exit(0);
} catch (e) {
  clearInterval(progress);
  console.error(`job failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(3);
}
