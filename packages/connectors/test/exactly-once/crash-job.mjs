// A stateful job for the crash-injection test, run as a child process against the built
// packages. Config (JSON in argv[2]): { out, checkpoints, parallelism, backend, n, restore }.
// Output (exactly-once JSONL files in `out`): one {t:'rec',x} per input number and, at the end,
// one {t:'sum',key,count,sum} per key.
import { LevelStateBackend, StreamEnvironment, ValueStateDescriptor, WatermarkStrategy } from '@weir/core';
import { FileSink } from '@weir/connectors';

const cfg = JSON.parse(process.argv[2]);
let seen = 0;

class CountAndPass {
  open(ctx) {
    this.count = ctx.getState(new ValueStateDescriptor('count'));
    this.sum = ctx.getState(new ValueStateDescriptor('sum'));
  }
  processElement(e, ctx, out) {
    const c = this.count.value() ?? 0;
    if (c === 0) ctx.timerService().registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
    this.count.update(c + 1);
    this.sum.update((this.sum.value() ?? 0) + e.x);
    out.collect({ t: 'rec', x: e.x });
  }
  onTimer(_ts, ctx, out) {
    out.collect({ t: 'sum', key: ctx.getCurrentKey(), count: this.count.value(), sum: this.sum.value() });
  }
}

const env = StreamEnvironment.create({
  parallelism: cfg.parallelism,
  checkpoint: { dir: cfg.checkpoints, intervalMs: 25, retain: 2 },
  ...(cfg.restore ? { restore: 'latest' } : {}),
  ...(cfg.backend === 'level' ? { stateBackend: new LevelStateBackend({ dir: `${cfg.checkpoints}-level` }) } : {}),
  batchSize: 256,
  warn: () => {},
});
env
  .fromSequence(1, cfg.n)
  .uid('numbers')
  .map((x) => {
    // Progress for the parent, which kills the process after a chosen number of records.
    if (++seen % 1_000 === 0) process.stdout.write(`P ${seen}\n`);
    return { x, key: x % 13 };
  })
  .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps().withTimestampAssigner((e) => e.x))
  .keyBy((e) => e.key)
  .process(new CountAndPass())
  .uid('count-and-pass')
  .sinkTo(new FileSink({ path: cfg.out, format: 'jsonl', semantic: 'exactly-once', rollingPolicy: { maxRecords: 5_000 } }))
  .uid('files');
await env.execute('crash-job');
process.stdout.write('FINISHED\n');
