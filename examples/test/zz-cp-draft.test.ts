import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CheckpointStorage,
  CollectSink,
  jsonSerde,
  LevelStateBackend,
  ManualClock,
  OutputTag,
  StreamEnvironment,
  type TwoPhaseCommittingSink,
  WatermarkStrategy,
} from '@weir/core';
import {
  ConfluentAvroSerde,
  type DeadLetter,
  DeserializeFunction,
  EmbeddedSchemaRegistry,
  FileSink,
  FileSource,
  IncompatibleSchemaError,
  type MalformedRecord,
} from '@weir/connectors';
import { describe, expect, it } from 'vitest';

describe('cp draft', () => {
  it('restore', async () => {
    const base = await mkdtemp(join(tmpdir(), 'weir-readme-'));
    try {
      const inbox = join(base, 'inbox');
      const checkpoints = join(base, 'checkpoints');
      await mkdir(inbox);
      await writeFile(join(inbox, '1.jsonl'), '{"user":"ann"}\n{"user":"bob"}\n{"user":"ann"}\n');

      interface Visit {
        readonly user: string;
      }
      /** The job: visits per user, from every file that lands in `inbox`. */
      function visitsPerUser(env: StreamEnvironment, out: CollectSink<string>): void {
        env
          .fromSource(FileSource.forJsonl<Visit>(inbox, { monitor: { intervalMs: 1_000 } }), WatermarkStrategy.noWatermarks(), 'visits')
          .uid('visits')
          .map((v) => ({ user: v.user, n: 1 }))
          .keyBy('user')
          .reduce((a, b) => ({ user: a.user, n: a.n + b.n }))
          .uid('visits-per-user')
          .map((v) => `${v.user}: ${v.n}`)
          .sinkTo(out)
          .uid('out');
      }
      const clock = new ManualClock(0);
      /** Moves the job's clock (so the source lists the directory) until `done()`. */
      async function until(done: () => boolean): Promise<void> {
        while (!done()) {
          clock.advance(1_000);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }

      const first = new CollectSink<string>();
      const env1 = StreamEnvironment.create({ clock, checkpoint: { dir: checkpoints } });
      visitsPerUser(env1, first);
      const job1 = env1.executeAsync('visits');
      await until(() => first.values.length === 3);
      const cp = await job1.stopWithCheckpoint();
      console.log(first.values, cp);

      await writeFile(join(inbox, '2.jsonl'), '{"user":"ann"}\n');
      const second = new CollectSink<string>();
      const env2 = StreamEnvironment.create({
        clock,
        parallelism: 2,
        stateBackend: new LevelStateBackend({ dir: join(base, 'state') }),
        checkpoint: { dir: checkpoints },
        restore: 'latest',
      });
      visitsPerUser(env2, second);
      const job2 = env2.executeAsync('visits');
      await until(() => second.values.length === 1);
      await job2.stopWithCheckpoint();
      console.log(second.values);
      console.log(await readdir(checkpoints), await readdir(join(checkpoints, 'chk-00000002')));
      const infos = await new CheckpointStorage(checkpoints).list();
      console.log(infos.map((i) => [i.checkpointId, i.complete, i.manifest?.operators.map((o) => `${o.uid}×${o.parallelism}`)]));
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('2pc toy', async () => {
    const base = await mkdtemp(join(tmpdir(), 'weir-readme-'));
    try {
      /** A transaction: the records of one writer between two checkpoints. */
      interface Txn {
        readonly id: string;
        readonly records: string[];
      }
      const committed = new Map<string, string[]>(); // the "external system"
      const sink: TwoPhaseCommittingSink<string, Txn> = {
        committableSerde: jsonSerde<Txn>(),
        createWriter(ctx) {
          let open: string[] = [];
          return {
            write: (value) => void open.push(value),
            prepareCommit: (checkpointId) => {
              const txn = { id: `${ctx.attemptId}-${ctx.taskInfo.subtaskIndex}-${checkpointId}`, records: open };
              open = [];
              return [txn];
            },
          };
        },
        createCommitter: () => ({
          commit: (txns) => {
            for (const t of txns) committed.set(t.id, t.records); // idempotent: commit again, same state
          },
        }),
      };
      const env = StreamEnvironment.create({ checkpoint: { dir: base } });
      env.fromElements('a', 'b', 'c').uid('letters').sinkTo(sink).uid('txn-sink');
      await env.execute();
      console.log([...committed.values()]);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-readme-'));
    try {
      interface Play {
        readonly user: string;
        readonly secs: number;
      }
      const env = StreamEnvironment.create({ parallelism: 2 });
      env
        .fromSequence(1, 5)
        .map((i): Play => ({ user: `u${i}`, secs: i * 10 }))
        .sinkTo(new FileSink<Play>({ path: join(dir, 'plays'), format: 'jsonl', rollingPolicy: { maxRecords: 2 } }))
        .uid('plays-files');
      await env.execute();
      console.log(await readdir(join(dir, 'plays')));

      await writeFile(join(dir, 'plays', 'extra.jsonl'), '{"user":"u9","secs":1}\nnot json\n');
      const bad: MalformedRecord[] = [];
      const env2 = StreamEnvironment.create();
      const source = FileSource.forJsonl<Play>(join(dir, 'plays'), { onMalformed: (m) => bad.push(m) });
      const plays = await env2.fromSource(source, WatermarkStrategy.noWatermarks(), 'plays').executeAndCollect();
      console.log(plays, bad, source.metrics());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('avro', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-readme-'));
    try {
      const V1 = { type: 'record', name: 'Play', fields: [{ name: 'user', type: 'string' }] };
      const V2 = { ...V1, fields: [...V1.fields, { name: 'device', type: 'string', default: 'unknown' }] };
      const V3 = { ...V1, fields: [{ name: 'user', type: 'long' }] };
      interface PlayV2 {
        readonly user: string;
        readonly device: string;
      }
      const registry = new EmbeddedSchemaRegistry(join(dir, 'registry')); // or new ConfluentSchemaRegistryClient({ url })
      const producer = ConfluentAvroSerde.forWriting<{ user: string }>({ registry, subject: 'plays-value', schema: V1 });
      await producer.open(); // registers V1: id 1
      const bytes = producer.serialize({ user: 'ann' });
      const reader = ConfluentAvroSerde.forReading<PlayV2>({ registry, subject: 'plays-value', schema: V2 });
      await reader.open();
      console.log(producer.schemaId, bytes[0], reader.deserialize(bytes));
      console.log(await registry.testCompatibility('plays-value', V3));
      const err = await registry.register('plays-value', V3).catch((e: unknown) => e);
      console.log(err instanceof IncompatibleSchemaError, (err as Error).message);

      // dead letters
      const deadLetters = new OutputTag<DeadLetter>('dead-letters');
      const env = StreamEnvironment.create();
      const decode = new DeserializeFunction<Uint8Array, PlayV2>({ serde: reader, deadLetterTag: deadLetters });
      const plays = env.fromElements<Uint8Array>(bytes, new Uint8Array([0, 0, 0, 0, 42]), new Uint8Array([1, 2])).process(decode);
      const dlq = new CollectSink<DeadLetter>();
      plays.getSideOutput(deadLetters).sinkTo(dlq);
      console.log(await plays.executeAndCollect(), dlq.values.map((d) => [d.errorType, d.error, d.offset]), decode.counters.snapshot());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
