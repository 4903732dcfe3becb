/**
 * Shared helpers of the @weir/core tests: a test-controlled source, a counting source, sinks
 * that record what they receive, and event-loop helpers to wait for an asynchronous job to
 * reach a state (never by elapsed time).
 */
import {
  type Boundedness,
  type InputStatus,
  type JobClient,
  jsonSerde,
  type ReaderOutput,
  type Sink,
  type SinkWriter,
  type Source,
  type SourceReader,
  type SourceSplit,
  type SplitEnumerator,
} from '@weir/core';

/** One turn of the event loop (lets the cooperative scheduler run). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs `n` event-loop turns. */
export async function settle(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/**
 * Waits, turn by turn, until `cond()` holds; throws (naming `what`) if it never does within
 * `maxTurns` event-loop turns. No wall-clock time is involved.
 */
export async function waitFor(cond: () => boolean, what: string, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await turn();
  }
  throw new Error(`condition never reached: ${what}`);
}

/** The current watermark of every instance of the operator named `name` in a running job. */
export function operatorWatermarks(client: JobClient, name: string): number[] {
  return client
    .metrics()
    .operators.filter((o) => o.name === name)
    .map((o) => o.watermark);
}

const NOOP_ENUMERATOR: SplitEnumerator<SourceSplit, null> = {
  start() {},
  addReader() {},
  addSplitsBack() {},
  snapshotState: () => null,
  close() {},
};

/**
 * A non-parallel source the test feeds by hand: `push` records (with an optional source
 * timestamp), `end()` to finish it. Unbounded until ended. Watermarks are generated
 * periodically (driven by the job's clock), as for any real source.
 */
export class QueueSource<T> implements Source<T, SourceSplit, null> {
  readonly maxParallelism = 1;
  readonly splitSerde = jsonSerde<SourceSplit>();
  readonly enumeratorStateSerde = jsonSerde<null>();
  /** Records handed to the runtime so far. */
  emitted = 0;
  /** Whether the reader was closed. */
  closed = false;
  private readonly items: Array<{ value: T; timestamp: number | undefined }> = [];
  private ended = false;
  private waiters: Array<() => void> = [];

  constructor(
    readonly boundedness: Boundedness = 'unbounded',
    readonly recordsHaveTimestamps = false,
  ) {}

  push(value: T, timestamp?: number): this {
    this.items.push({ value, timestamp });
    this.wake();
    return this;
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** Records pushed but not yet handed to the runtime. */
  get pending(): number {
    return this.items.length;
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  createEnumerator(): SplitEnumerator<SourceSplit, null> {
    return NOOP_ENUMERATOR;
  }

  restoreEnumerator(): SplitEnumerator<SourceSplit, null> {
    return NOOP_ENUMERATOR;
  }

  createReader(): SourceReader<T, SourceSplit> {
    const src = this;
    return {
      start() {},
      pollNext(output: ReaderOutput<T>): InputStatus {
        const item = src.items.shift();
        if (item !== undefined) {
          src.emitted++;
          if (item.timestamp === undefined) output.collect(item.value);
          else output.collect(item.value, item.timestamp);
          return 'more';
        }
        return src.ended ? 'end' : 'nothing';
      },
      isAvailable(): Promise<void> {
        if (src.items.length > 0 || src.ended) return Promise.resolve();
        return new Promise((resolve) => src.waiters.push(resolve));
      },
      addSplits() {},
      notifyNoMoreSplits() {},
      snapshotState: () => [],
      close() {
        src.closed = true;
      },
    };
  }
}

/**
 * A non-parallel source that emits `0, 1, 2, ...` (up to `limit`, or forever when `limit` is
 * `Infinity`, then it is unbounded) and counts what it emitted.
 */
export class CountingSource implements Source<number, SourceSplit, null> {
  readonly maxParallelism = 1;
  readonly splitSerde = jsonSerde<SourceSplit>();
  readonly enumeratorStateSerde = jsonSerde<null>();
  readonly boundedness: Boundedness;
  emitted = 0;
  closed = false;

  constructor(readonly limit: number) {
    this.boundedness = Number.isFinite(limit) ? 'bounded' : 'unbounded';
  }

  createEnumerator(): SplitEnumerator<SourceSplit, null> {
    return NOOP_ENUMERATOR;
  }

  restoreEnumerator(): SplitEnumerator<SourceSplit, null> {
    return NOOP_ENUMERATOR;
  }

  createReader(): SourceReader<number, SourceSplit> {
    const src = this;
    return {
      start() {},
      pollNext(output: ReaderOutput<number>): InputStatus {
        if (src.emitted >= src.limit) return 'end';
        output.collect(src.emitted++);
        return 'more';
      },
      isAvailable: () => Promise.resolve(),
      addSplits() {},
      notifyNoMoreSplits() {},
      snapshotState: () => [],
      close() {
        src.closed = true;
      },
    };
  }
}

/** A sink that appends `(value, timestamp, subtask)` for every record, shared by all writers. */
export class RecordingSink<T> implements Sink<T> {
  readonly records: Array<{ value: T; timestamp: number | null; subtask: number }> = [];
  flushedAtEnd = 0;
  closed = 0;

  get values(): T[] {
    return this.records.map((r) => r.value);
  }

  createWriter(ctx: { taskInfo: { subtaskIndex: number } }): SinkWriter<T> {
    const subtask = ctx.taskInfo.subtaskIndex;
    return {
      write: (value, timestamp) => {
        this.records.push({ value, timestamp, subtask });
      },
      flush: (end) => {
        if (end) this.flushedAtEnd++;
      },
      close: () => {
        this.closed++;
      },
    };
  }
}

/** Sorts a copy by JSON text: order-insensitive comparison of outputs. */
export function sortedJson<T>(values: readonly T[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}
