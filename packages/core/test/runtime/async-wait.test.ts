import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AsyncFunction,
  type AsyncLookup,
  type AsyncOptions,
  AsyncTimeoutError,
  MAX_WATERMARK,
  ManualClock,
  UserFunctionError,
} from '@weir/core';
import { OperatorHarness } from '@weir/core/testing';
import { AsyncWaitOperator, type InFlightElement } from '../../src/runtime/operators/AsyncWaitOperator.js';

/** Lets settled promises run their callbacks. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Call<T, R> {
  readonly input: T;
  readonly attempt: number;
  settled: boolean;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** A fake async service: every call waits until the test settles it; counts concurrency. */
class FakeService<T, R> {
  readonly calls: Array<Call<T, R>> = [];
  concurrent = 0;
  maxConcurrent = 0;
  private readonly attempts = new Map<string, number>();

  readonly lookup = (input: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const key = JSON.stringify(input);
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      this.concurrent++;
      this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
      const call: Call<T, R> = {
        input,
        attempt,
        settled: false,
        resolve: (r) => {
          if (call.settled) return;
          call.settled = true;
          this.concurrent--;
          resolve(r);
        },
        reject: (e) => {
          if (call.settled) return;
          call.settled = true;
          this.concurrent--;
          reject(e);
        },
      };
      this.calls.push(call);
    });

  /** The pending call for `input` (the latest attempt). */
  pending(input: T): Call<T, R> {
    const c = [...this.calls].reverse().find((x) => !x.settled && JSON.stringify(x.input) === JSON.stringify(input));
    if (c === undefined) throw new Error(`no pending call for ${JSON.stringify(input)}`);
    return c;
  }
}

function harness<T, R>(
  fn: AsyncLookup<T, R> | AsyncFunction<T, R>,
  ordered: boolean,
  options: AsyncOptions<T>,
): { h: OperatorHarness<T, R>; op: AsyncWaitOperator<T, R> } {
  const op = new AsyncWaitOperator<T, R>(fn, ordered, options);
  return { h: new OperatorHarness<T, R>(op, false, { name: 'enrich' }), op };
}

describe('AsyncWaitOperator: order', () => {
  it('ordered mode emits in input order with the inputs timestamps, whatever the completion order', async () => {
    const svc = new FakeService<number, string>();
    const { h } = harness(svc.lookup, true, { timeoutMs: 1_000 });
    await h.open();
    for (const x of [1, 2, 3]) h.processElement(x, x * 10);
    svc.pending(3).resolve('c');
    svc.pending(2).resolve('b');
    await flush();
    expect(h.output()).toEqual([]);
    svc.pending(1).resolve('a');
    await flush();
    expect(h.output()).toEqual([
      { value: 'a', timestamp: 10 },
      { value: 'b', timestamp: 20 },
      { value: 'c', timestamp: 30 },
    ]);
  });

  it('unordered mode emits as completed but never across a watermark', async () => {
    const svc = new FakeService<string, string>();
    const { h } = harness(svc.lookup, false, { timeoutMs: 1_000 });
    await h.open();
    h.processElement('a', 1);
    h.processElement('b', 2);
    h.processWatermark(5);
    h.processElement('c', 7);
    h.processWatermark(8);
    svc.pending('c').resolve('C');
    svc.pending('b').resolve('B');
    await flush();
    // b completed first and is before the watermark: out at once; c waits behind watermark 5.
    expect(h.outputValues()).toEqual(['B']);
    expect(h.watermarks()).toEqual([]);
    svc.pending('a').resolve('A');
    await flush();
    expect(h.outputValues()).toEqual(['B', 'A', 'C']);
    expect(h.watermarks()).toEqual([5, 8]);
  });

  it('unordered mode: a record after a watermark waits for the records before it', async () => {
    const svc = new FakeService<string, string>();
    const { h } = harness(svc.lookup, false, { timeoutMs: 1_000 });
    await h.open();
    h.processElement('a', 1);
    h.processWatermark(3);
    h.processElement('b', 4);
    svc.pending('b').resolve('B');
    await flush();
    expect(h.outputValues()).toEqual([]);
    svc.pending('a').resolve('A');
    await flush();
    expect(h.outputValues()).toEqual(['A', 'B']);
    expect(h.watermarks()).toEqual([3]);
  });

  it('passes watermarks straight through when nothing is queued, and coalesces queued ones', async () => {
    const svc = new FakeService<number, number>();
    const { h } = harness(svc.lookup, true, { timeoutMs: 1_000 });
    await h.open();
    h.processWatermark(1);
    expect(h.watermarks()).toEqual([1]);
    h.processElement(7, 2);
    h.processWatermark(3);
    h.processWatermark(4);
    svc.pending(7).resolve(70);
    await flush();
    expect(h.watermarks()).toEqual([1, 4]);
  });

  it('emits a result available at once (a cache hit) without waiting for the mailbox', async () => {
    const { h } = harness((x: number) => x * 2, true, { timeoutMs: 1_000 });
    await h.open();
    h.processElement(21, 5);
    expect(h.output()).toEqual([{ value: 42, timestamp: 5 }]);
  });

  it('an AsyncFunction may emit zero or several results per input', async () => {
    const fn: AsyncFunction<number, string> = {
      asyncInvoke: async (x) => Array.from({ length: x }, (_, i) => `${x}.${i}`),
    };
    const { h } = harness(fn, true, { timeoutMs: 1_000 });
    await h.open();
    for (const x of [2, 0, 1]) h.processElement(x, x);
    await flush();
    expect(h.outputValues()).toEqual(['2.0', '2.1', '1.0']);
  });

  it('property: ordered output equals the mapped input; unordered is a permutation within watermark segments', async () => {
    const scenario = fc.record({
      // inputs interleaved with watermarks (null = watermark)
      elements: fc.array(fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: null, freq: 4 }), { maxLength: 25 }),
      completionSeed: fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
      capacity: fc.integer({ min: 1, max: 6 }),
      ordered: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ elements, completionSeed, capacity, ordered }) => {
        const pending: Array<{ x: number; resolve: (r: string) => void }> = [];
        let concurrent = 0;
        let maxConcurrent = 0;
        const lookup = (x: number): Promise<string> =>
          new Promise((resolve) => {
            concurrent++;
            maxConcurrent = Math.max(maxConcurrent, concurrent);
            pending.push({
              x,
              resolve: (r) => {
                concurrent--;
                resolve(r);
              },
            });
          });
        const op = new AsyncWaitOperator<{ i: number; x: number }, string>((r) => lookup(r.x).then((s) => `${r.i}:${s}`), ordered, {
          timeoutMs: Number.POSITIVE_INFINITY,
          capacity,
        });
        // Emitted records and watermarks, in one sequence.
        const events: Array<{ kind: 'r'; i: number } | { kind: 'w'; w: number }> = [];
        const clock = new ManualClock(0);
        op.setup(
          {
            taskInfo: { operatorName: 'enrich', operatorUid: 'enrich', subtaskIndex: 0, parallelism: 1, maxParallelism: 128 },
            clock,
            processingTimeService: { now: () => clock.now(), registerTimer: (t, cb) => clock.schedule(t, () => cb(t)) },
            mailbox: { execute: (action) => action() },
            keyedBackend: undefined,
            hasTimestamps: true,
          },
          {
            collect: (v) => void events.push({ kind: 'r', i: Number(v.split(':')[0]) }),
            collectSide: () => {},
            emitWatermark: (wm) => void events.push({ kind: 'w', w: wm }),
            emitIdle: () => {},
          },
        );
        await op.open();
        let seed = 0;
        const completeSome = async (): Promise<void> => {
          const n = (completionSeed[seed++ % completionSeed.length] as number) % 3;
          for (let k = 0; k < n && pending.length > 0; k++) {
            const idx = (completionSeed[(seed + k) % completionSeed.length] as number) % pending.length;
            const [p] = pending.splice(idx, 1);
            p?.resolve(`v${p.x}`);
          }
          await flush();
        };
        // Which watermark precedes each record in the input.
        const segmentOf: number[] = [];
        let w = 0;
        let i = 0;
        const inputs: Array<{ i: number; x: number }> = [];
        for (const el of elements) {
          if (el === null) {
            w++;
            op.processWatermark(w);
          } else {
            segmentOf[i] = w;
            inputs.push({ i, x: el });
            op.processElement({ i, x: el }, el);
            i++;
          }
          await completeSome();
        }
        op.processWatermark(MAX_WATERMARK);
        const done = op.finish();
        while (pending.length > 0) {
          pending.shift()?.resolve('late');
          await flush();
        }
        await done;
        expect(maxConcurrent).toBeLessThanOrEqual(capacity);
        const recordOrder = events.filter((e) => e.kind === 'r').map((e) => (e as { i: number }).i);
        if (ordered) expect(recordOrder).toEqual(inputs.map((r) => r.i));
        else expect([...recordOrder].sort((a, b) => a - b)).toEqual(inputs.map((r) => r.i));
        // No record crosses a watermark in either direction.
        let emittedWatermarks = 0;
        for (const e of events) {
          if (e.kind === 'w') {
            if (e.w !== MAX_WATERMARK) emittedWatermarks = e.w;
          } else {
            expect(segmentOf[e.i]).toBe(emittedWatermarks);
          }
        }
        expect(events.at(-1)).toEqual({ kind: 'w', w: MAX_WATERMARK });
        await op.close();
      }),
      { numRuns: 150 },
    );
  });
});

describe('AsyncWaitOperator: capacity and backpressure', () => {
  it('keeps at most `capacity` requests in flight and reports unavailability when full', async () => {
    const svc = new FakeService<number, number>();
    const { h, op } = harness(svc.lookup, true, { timeoutMs: 1_000, capacity: 3 });
    await h.open();
    for (let x = 0; x < 3; x++) h.processElement(x, x);
    expect(op.isAvailable()).toBe(false);
    let woke = false;
    void op.whenAvailable().then(() => {
      woke = true;
    });
    // A batch already being processed may still push records: they wait without a request.
    h.processElement(3, 3);
    h.processElement(4, 4);
    expect(svc.calls).toHaveLength(3);
    expect(op.queuedRecords).toBe(5);
    svc.pending(1).resolve(10); // not the head: nothing leaves in ordered mode
    await flush();
    expect(svc.calls).toHaveLength(3);
    expect(woke).toBe(false);
    svc.pending(0).resolve(0);
    await flush();
    // 0 and 1 emitted: two slots freed, taken by 3 and 4, still full
    expect(h.outputValues()).toEqual([0, 10]);
    expect(svc.calls).toHaveLength(5);
    expect(svc.maxConcurrent).toBe(3);
    expect(op.isAvailable()).toBe(false);
    svc.pending(2).resolve(20);
    await flush();
    expect(woke).toBe(true);
    expect(op.isAvailable()).toBe(true);
    const done = h.endInput();
    svc.pending(3).resolve(30);
    svc.pending(4).resolve(40);
    await done;
    expect(h.outputValues()).toEqual([0, 10, 20, 30, 40]);
    expect(svc.maxConcurrent).toBe(3);
  });
});

describe('AsyncWaitOperator: timeouts and retries', () => {
  it('retries a timed-out attempt after the backoff, on the clock, and ignores the late answer', async () => {
    const svc = new FakeService<string, string>();
    const { h, op } = harness(svc.lookup, true, { timeoutMs: 100, retry: { maxAttempts: 3, backoffMs: 50 } });
    await h.open();
    h.processElement('k', 1);
    const first = svc.pending('k');
    h.setProcessingTime(99);
    expect(svc.calls).toHaveLength(1);
    h.setProcessingTime(100); // timeout → retry at 150
    expect(svc.calls).toHaveLength(1);
    expect(op.inFlightRequests).toBe(0);
    h.setProcessingTime(149);
    expect(svc.calls).toHaveLength(1);
    h.setProcessingTime(150);
    expect(svc.calls).toHaveLength(2);
    expect(svc.calls[1]?.attempt).toBe(2);
    first.resolve('late'); // attempt 1 answers after its timeout: ignored
    await flush();
    expect(h.outputValues()).toEqual([]);
    svc.pending('k').resolve('fresh');
    await flush();
    expect(h.output()).toEqual([{ value: 'fresh', timestamp: 1 }]);
  });

  it('backoff may grow with the attempt number', async () => {
    const svc = new FakeService<string, string>();
    const backoffs: number[] = [];
    const { h } = harness(svc.lookup, true, {
      timeoutMs: 10,
      retry: {
        maxAttempts: 3,
        backoffMs: (n) => {
          backoffs.push(n);
          return 100 * 2 ** (n - 1);
        },
      },
    });
    await h.open();
    h.processElement('k', 0);
    h.setProcessingTime(10); // attempt 1 timed out → retry at 110
    h.setProcessingTime(110);
    expect(svc.calls).toHaveLength(2);
    h.setProcessingTime(120); // attempt 2 timed out → retry at 320
    h.setProcessingTime(319);
    expect(svc.calls).toHaveLength(2);
    h.setProcessingTime(320);
    expect(svc.calls).toHaveLength(3);
    expect(backoffs).toEqual([1, 2]);
  });

  it('after the last timeout the AsyncFunction timeout handler gives the results', async () => {
    const svc = new FakeService<string, string>();
    const fn: AsyncFunction<string, string> = {
      asyncInvoke: async (x) => [await svc.lookup(x)],
      timeout: (x) => [`${x}:fallback`],
    };
    const { h } = harness(fn, true, { timeoutMs: 100, retry: { maxAttempts: 2 } });
    await h.open();
    h.processElement('a', 1);
    h.processElement('b', 2);
    svc.pending('b').resolve('B');
    await flush();
    h.setProcessingTime(100); // a times out, retried at once (no backoff)
    expect(svc.calls.filter((c) => c.input === 'a')).toHaveLength(2);
    h.setProcessingTime(200); // second timeout: fallback
    await flush();
    expect(h.output()).toEqual([
      { value: 'a:fallback', timestamp: 1 },
      { value: 'B', timestamp: 2 },
    ]);
  });

  it('without a timeout handler a final timeout fails the job naming the operator', async () => {
    const svc = new FakeService<string, string>();
    const { h } = harness(svc.lookup, true, { timeoutMs: 100, retry: { maxAttempts: 2, backoffMs: 10 } });
    await h.open();
    h.processElement('a', 1);
    h.setProcessingTime(100);
    h.setProcessingTime(110);
    h.setProcessingTime(210);
    const failure = h.mailboxFailure();
    expect(failure).toBeInstanceOf(UserFunctionError);
    expect((failure as UserFunctionError).operatorName).toBe('enrich');
    expect((failure as UserFunctionError).cause).toBeInstanceOf(AsyncTimeoutError);
    expect(String((failure as Error).message)).toMatch(/enrich.*timed out after 100 ms \(2 attempts\)/);
    expect(() => h.processElement('b', 2)).toThrow(UserFunctionError);
  });

  it('retries rejected requests, then fails the job with the cause', async () => {
    const svc = new FakeService<string, string>();
    const { h } = harness(svc.lookup, true, { timeoutMs: 1_000, retry: { maxAttempts: 3, backoffMs: 5 } });
    await h.open();
    h.processElement('a', 1);
    svc.pending('a').reject(new Error('503 #1'));
    await flush();
    h.setProcessingTime(5);
    svc.pending('a').reject(new Error('503 #2'));
    await flush();
    h.setProcessingTime(10);
    expect(svc.calls).toHaveLength(3);
    svc.pending('a').reject(new Error('503 #3'));
    await flush();
    const failure = h.mailboxFailure() as UserFunctionError;
    expect(failure).toBeInstanceOf(UserFunctionError);
    expect(failure.message).toMatch(/operator 'enrich'.*503 #3/);
  });

  it('does not retry errors that are not retryable', async () => {
    const svc = new FakeService<string, string>();
    const { h } = harness(svc.lookup, true, {
      timeoutMs: 1_000,
      retry: { maxAttempts: 5, isRetryable: (e) => !(e instanceof Error && e.message === 'fatal') },
    });
    await h.open();
    h.processElement('a', 1);
    svc.pending('a').reject(new Error('transient'));
    await flush();
    expect(svc.calls).toHaveLength(2); // no backoff: retried at once
    svc.pending('a').reject(new Error('fatal'));
    await flush();
    expect((h.mailboxFailure() as Error).message).toMatch(/fatal/);
    expect(svc.calls).toHaveLength(2);
  });

  it('a synchronous throw is a failed attempt too', async () => {
    let calls = 0;
    const { h } = harness(
      (x: number): Promise<number> => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return Promise.resolve(x + 1);
      },
      true,
      { timeoutMs: 1_000, retry: { maxAttempts: 2 } },
    );
    await h.open();
    h.processElement(1, 0);
    await flush();
    expect(h.outputValues()).toEqual([2]);
  });

  it('rejects invalid options when the pipeline is built', () => {
    const f = (x: number): Promise<number> => Promise.resolve(x);
    expect(() => new AsyncWaitOperator(f, true, { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new AsyncWaitOperator(f, true, { timeoutMs: 10, capacity: 0 })).toThrow(RangeError);
    expect(() => new AsyncWaitOperator(f, true, { timeoutMs: 10, retry: { maxAttempts: 0 } })).toThrow(RangeError);
  });
});

describe('AsyncWaitOperator: end of input and restore', () => {
  it('finish waits for every request and emits before the final watermark; timeouts still fire', async () => {
    const svc = new FakeService<string, string>();
    const fn: AsyncFunction<string, string> = {
      asyncInvoke: async (x) => [await svc.lookup(x)],
      timeout: (x) => [`${x}:timeout`],
    };
    const { h } = harness(fn, false, { timeoutMs: 100 });
    await h.open();
    h.processElement('a', 1);
    h.processElement('b', 2);
    let ended = false;
    const done = h.endInput().then(() => {
      ended = true;
    });
    await flush();
    expect(ended).toBe(false);
    expect(h.watermarks()).toEqual([]);
    svc.pending('b').resolve('B');
    await flush();
    expect(h.outputValues()).toEqual(['B']);
    expect(ended).toBe(false);
    h.setProcessingTime(100); // 'a' times out while finishing
    await done;
    expect(h.outputValues()).toEqual(['B', 'a:timeout']);
    expect(h.watermarks()).toEqual([MAX_WATERMARK]);
  });

  it('snapshots in-flight inputs in order, and re-issues them after a restore', async () => {
    const svc = new FakeService<number, number>();
    const { h, op } = harness(svc.lookup, true, { timeoutMs: 1_000 });
    await h.open();
    h.processElement(1, 10);
    h.processElement(2, 20);
    h.processWatermark(15);
    h.processElement(3, 30);
    svc.pending(2).resolve(200); // completed but not emitted (1 is pending): still snapshotted
    await flush();
    const snap = op.snapshotInFlight();
    expect(snap).toEqual<Array<InFlightElement<number>>>([
      { kind: 'record', value: 1, timestamp: 10 },
      { kind: 'record', value: 2, timestamp: 20 },
      { kind: 'watermark', watermark: 15 },
      { kind: 'record', value: 3, timestamp: 30 },
    ]);
    await h.close();

    const lookup = (x: number): Promise<number> => Promise.resolve(x * 100);
    const restoredOp = new AsyncWaitOperator<number, number>(lookup, true, { timeoutMs: 1_000 });
    restoredOp.restoreInFlight(snap);
    const h2 = new OperatorHarness(restoredOp, false);
    await h2.open();
    await flush();
    expect(h2.output()).toEqual([
      { value: 100, timestamp: 10 },
      { value: 200, timestamp: 20 },
      { value: 300, timestamp: 30 },
    ]);
    expect(h2.watermarks()).toEqual([15]);
  });

  it('checkpoints the in-flight inputs as operator state and restores them (rescaling splits them)', async () => {
    const svc = new FakeService<{ id: string }, string>();
    const op = new AsyncWaitOperator<{ id: string }, string>(svc.lookup, true, { timeoutMs: 1_000 });
    const h = new OperatorHarness(op, false);
    await h.open();
    h.processElement({ id: 'x' }, 1);
    h.processElement({ id: 'y' }, 2);
    const state = op.snapshotState(1).operatorState;
    const blob = state['async-in-flight'] as Uint8Array;
    expect(blob).toBeInstanceOf(Uint8Array);

    // Two new instances take over one old instance's blob: only one re-issues it.
    const outputs: string[][] = [];
    for (const subtaskIndex of [0, 1]) {
      const op2 = new AsyncWaitOperator<{ id: string }, string>(async (r) => `${r.id}!`, true, { timeoutMs: 1_000 });
      const h2 = new OperatorHarness(op2, false, { parallelism: 2, subtaskIndex });
      await openRestored(h2, op2, [{ 'async-in-flight': blob }]);
      await flush();
      outputs.push(h2.outputValues());
    }
    expect(outputs).toEqual([['x!', 'y!'], []]);
  });
});

/** Opens a harness whose operator was restored from operator-state blobs. */
async function openRestored<T, R>(
  h: OperatorHarness<T, R>,
  op: AsyncWaitOperator<T, R>,
  blobs: Array<Record<string, Uint8Array>>,
): Promise<void> {
  // initializeState needs setupInfo for keyed state only; operator state is just kept.
  Object.defineProperty(op, 'setupInfo', { value: { keyedBackend: undefined }, writable: true, configurable: true });
  op.initializeState(
    blobs.map((operatorState, subtask) => ({
      uid: 'enrich',
      subtask,
      parallelism: blobs.length,
      keyGroupRange: undefined,
      keyed: undefined,
      timers: [],
      operatorState,
    })),
  );
  await h.open();
}
