import { type AsyncFunction, type AsyncLookup, type AsyncOptions, AsyncTimeoutError } from '../../api/AsyncDataStream.js';
import { jsonSerde, type Serde } from '../../api/Serde.js';
import type { Cancellable } from '../../api/types.js';
import { BinaryReader, BinaryWriter } from '../../state/codec.js';
import { instanceOf, type OneInputOperator, StreamingRuntimeContext, StreamOperator } from '../StreamOperator.js';

// Entry states. A record entry goes NOT_STARTED → IN_FLIGHT → (FAILED → BACKOFF → IN_FLIGHT)* →
// DONE → emitted (back to the pool). A timed-out attempt's entry becomes ABANDONED and is
// replaced in the queue by a fresh one, so a late answer to it lands on an object nobody reads.
const FREE = 0;
const NOT_STARTED = 1;
const IN_FLIGHT = 2;
const BACKOFF = 3;
const DONE = 4;
const FAILED = 5;
const ABANDONED = 6;

// Entry kinds: records and the control elements that must keep their place among them.
const RECORD = 0;
const WATERMARK = 1;
const IDLE = 2;
const ACTIVE = 3;

/** Name of the operator-state blob holding the in-flight inputs. */
const IN_FLIGHT_STATE = 'async-in-flight';

/**
 * One element of the operator's queue: a record (with its request) or a watermark/status that
 * waits for the records before it. Pooled: its completion callbacks are created once per
 * object, so a request allocates nothing of the operator's own.
 */
class QueueEntry {
  kind = RECORD;
  state = FREE;
  value: unknown = undefined;
  /** Record timestamp, or the watermark of a WATERMARK entry. */
  timestamp = 0;
  attempts = 0;
  /** Number of control entries enqueued before this record (its watermark segment). */
  segment = 0;
  result: unknown = undefined;
  error: unknown = undefined;
  deadline = Number.POSITIVE_INFINITY;
  retryAt = 0;
  prev: QueueEntry | undefined = undefined;
  next: QueueEntry | undefined = undefined;
  // The list of in-flight attempts by start time (hence by deadline).
  inDeadlines = false;
  dlPrev: QueueEntry | undefined = undefined;
  dlNext: QueueEntry | undefined = undefined;
  readonly onResult: (result: unknown) => void;
  readonly onError: (error: unknown) => void;

  constructor(op: AsyncWaitOperator<unknown, unknown>) {
    // Called outside the task (promise callbacks): record the outcome, let the task handle it.
    this.onResult = (result) => {
      if (this.state !== IN_FLIGHT) return;
      this.state = DONE;
      this.result = result;
      op.completed(this);
    };
    this.onError = (error) => {
      if (this.state !== IN_FLIGHT) return;
      this.state = FAILED;
      this.error = error;
      op.completed(this);
    };
  }
}

/**
 * An element of the in-flight queue as checkpointed: inputs not yet emitted, and the watermarks
 * among them, in input order.
 * @internal
 */
export type InFlightElement<TIn> =
  | { readonly kind: 'record'; readonly value: TIn; readonly timestamp: number }
  | { readonly kind: 'watermark'; readonly watermark: number };

/**
 * Runs async I/O requests for its input records (Flink's `AsyncWaitOperator`).
 *
 * The queue holds, in input order, every record not yet emitted (waiting for a free slot, in
 * flight, waiting for a retry, or completed) and the watermarks and idle/active statuses among
 * them. At most `capacity` records are held; when full, `isAvailable()` is false and the task
 * stops feeding the operator (a batch being processed may still add records, which wait
 * without a request until a slot frees, so at most `capacity` requests are ever in flight).
 *
 * Completions arrive in promise callbacks, outside the task: they only record the outcome and
 * ask the task's mailbox to run `drain`, which emits, retries, handles timeouts and fails the
 * job inside the task. Per-attempt timeouts and retry backoff share one clock callback for the
 * earliest due time. Ordered mode emits from the head only; unordered mode emits a completed
 * record at once if no control element precedes it, so a watermark is never overtaken in
 * either direction.
 *
 * Exactly-once with checkpoints: the snapshot (`snapshotInFlight`, as operator state
 * `'async-in-flight'`) is every queued record's input and timestamp, and the watermarks among
 * them, in queue order; results are never stored. After a restore those inputs are fed
 * through `processElement`/`processWatermark` again before any new input (requests are
 * re-issued), so each input's results are emitted exactly once downstream of the checkpoint.
 * @internal
 */
export class AsyncWaitOperator<TIn, TOut> extends StreamOperator<TOut> implements OneInputOperator<TIn> {
  // configuration
  private readonly lookup: AsyncLookup<TIn, TOut> | undefined;
  private readonly fn: AsyncFunction<TIn, TOut> | undefined;
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoff: number | ((attempt: number) => number);
  private readonly isRetryable: ((error: unknown) => boolean) | undefined;
  private readonly inputSerde: Serde<TIn>;

  // transient
  private head: QueueEntry | undefined = undefined;
  private tail: QueueEntry | undefined = undefined;
  /** Records in the queue (not yet emitted). */
  private records = 0;
  /** Records whose first attempt started (not yet emitted). */
  private started = 0;
  /** The oldest record without a request yet; every later record has none either. */
  private firstNotStarted: QueueEntry | undefined = undefined;
  private controlsEnqueued = 0;
  private controlsEmitted = 0;
  private dlHead: QueueEntry | undefined = undefined;
  private dlTail: QueueEntry | undefined = undefined;
  private readonly retrying: QueueEntry[] = [];
  private readonly completions: QueueEntry[] = [];
  private readonly pool: QueueEntry[] = [];
  private timer: Cancellable | undefined = undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private drainScheduled = false;
  private draining = false;
  private closed = false;
  /** Set while `finish()` waits: completions wake it instead of the (stopped) mailbox. */
  private wake: (() => void) | undefined = undefined;
  private available: Promise<void> | undefined = undefined;
  private resolveAvailable: (() => void) | undefined = undefined;
  private restoredElements: Array<InFlightElement<TIn>> = [];
  private readonly drainAction = (): void => {
    this.drainScheduled = false;
    this.drain();
  };
  private readonly onClock = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.requestDrain();
  };

  /**
   * @param fn - a lookup (one result per input) or an AsyncFunction (a list of results)
   * @param ordered - emit in input order (`true`) or as completed within watermark segments
   * @param options - timeout, capacity, retries
   */
  constructor(
    fn: AsyncLookup<TIn, TOut> | AsyncFunction<TIn, TOut>,
    readonly ordered: boolean,
    options: AsyncOptions<TIn>,
  ) {
    super();
    AsyncWaitOperator.checkOptions(options);
    if (typeof fn === 'function') {
      this.lookup = fn;
      this.fn = undefined;
    } else {
      this.lookup = undefined;
      this.fn = instanceOf(fn);
    }
    this.capacity = options.capacity ?? 100;
    this.timeoutMs = options.timeoutMs;
    this.maxAttempts = options.retry?.maxAttempts ?? 1;
    this.backoff = options.retry?.backoffMs ?? 0;
    this.isRetryable = options.retry?.isRetryable;
    this.inputSerde = options.inputSerde ?? jsonSerde<TIn>();
  }

  /** Throws on invalid options. */
  static checkOptions<TIn>(options: AsyncOptions<TIn>): void {
    if (options === undefined || options === null) throw new TypeError('async I/O needs options: { timeoutMs, capacity? }');
    if (!(options.timeoutMs > 0)) throw new RangeError(`timeoutMs must be > 0 (or Infinity), got ${options.timeoutMs}`);
    const c = options.capacity;
    if (c !== undefined && !(Number.isInteger(c) && c >= 1)) throw new RangeError(`capacity must be a positive integer, got ${c}`);
    const r = options.retry;
    if (r !== undefined) {
      if (!(Number.isInteger(r.maxAttempts) && r.maxAttempts >= 1)) {
        throw new RangeError(`retry.maxAttempts must be a positive integer, got ${r.maxAttempts}`);
      }
      const b = r.backoffMs;
      if (b !== undefined && typeof b !== 'function' && !(b >= 0)) throw new RangeError(`retry.backoffMs must be >= 0, got ${b}`);
    }
  }

  // ---- lifecycle ----

  override async open(): Promise<void> {
    try {
      await this.fn?.open?.(new StreamingRuntimeContext(this.setupInfo));
    } catch (e) {
      throw this.userError(e, false);
    }
    this.loadRestored();
    // Re-issue restored requests before any new input.
    const restored = this.restoredElements;
    this.restoredElements = [];
    for (const e of restored) {
      if (e.kind === 'record') this.processElement(e.value, e.timestamp);
      else this.processWatermark(e.watermark);
    }
  }

  processElement(value: TIn, timestamp: number): void {
    const e = this.pool.pop() ?? new QueueEntry(this as AsyncWaitOperator<unknown, unknown>);
    e.kind = RECORD;
    e.state = NOT_STARTED;
    e.value = value;
    e.timestamp = timestamp;
    e.attempts = 0;
    e.segment = this.controlsEnqueued;
    this.append(e);
    this.records++;
    if (this.firstNotStarted === undefined && this.started < this.capacity) {
      this.started++;
      this.attempt(e);
      // A result that was there at once (a cache hit) needs no trip through the mailbox.
      if (this.completions.length > 0) this.drain();
    } else if (this.firstNotStarted === undefined) {
      this.firstNotStarted = e;
    }
  }

  override processWatermark(watermark: number): void {
    this.currentWatermark = watermark;
    if (this.head === undefined) {
      this.output.emitWatermark(watermark);
      return;
    }
    const t = this.tail as QueueEntry;
    // Consecutive watermarks with no record between them: only the latest matters.
    if (t.kind === WATERMARK) {
      t.timestamp = watermark;
      return;
    }
    this.enqueueControl(WATERMARK, watermark);
  }

  override processIdle(idle: boolean): void {
    if (this.head === undefined) this.output.emitIdle(idle);
    else this.enqueueControl(idle ? IDLE : ACTIVE, 0);
  }

  /** Waits for every queued request and emits everything before end of input propagates. */
  override async finish(): Promise<void> {
    for (;;) {
      this.drain();
      if (this.head === undefined) return;
      // The task no longer runs its mailbox: completions and clock callbacks wake us instead.
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.resolveAvailable?.();
    try {
      await this.fn?.close?.();
    } finally {
      await super.close();
    }
  }

  // ---- backpressure ----

  override get canBlock(): boolean {
    return true;
  }

  override isAvailable(): boolean {
    return this.records < this.capacity;
  }

  override whenAvailable(): Promise<void> {
    if (this.records < this.capacity || this.closed) return Promise.resolve();
    if (this.available === undefined) {
      this.available = new Promise<void>((resolve) => {
        this.resolveAvailable = resolve;
      });
    }
    return this.available;
  }

  // ---- checkpointing ----

  /**
   * The queued inputs and the watermarks among them, in input order: what a checkpoint keeps
   * so that a restore re-issues them (results are never stored).
   */
  snapshotInFlight(): Array<InFlightElement<TIn>> {
    const out: Array<InFlightElement<TIn>> = [];
    for (let e = this.head; e !== undefined; e = e.next) {
      if (e.kind === RECORD) out.push({ kind: 'record', value: e.value as TIn, timestamp: e.timestamp });
      else if (e.kind === WATERMARK) out.push({ kind: 'watermark', watermark: e.timestamp });
    }
    return out;
  }

  /** Inputs to re-issue when the operator opens (a restore); call before `open`. */
  restoreInFlight(elements: ReadonlyArray<InFlightElement<TIn>>): void {
    this.restoredElements.push(...elements);
  }

  protected override snapshotOperatorState(_checkpointId: number): Record<string, Uint8Array> {
    const w = new BinaryWriter();
    const elements = this.snapshotInFlight();
    w.varint(elements.length);
    for (const e of elements) {
      if (e.kind === 'record') {
        w.u8(0);
        w.f64(e.timestamp);
        w.bytes(this.inputSerde.serialize(e.value));
      } else {
        w.u8(1);
        w.f64(e.watermark);
      }
    }
    return { [IN_FLIGHT_STATE]: w.finish() };
  }

  /** Decodes the in-flight inputs of the old instances this instance takes over. */
  private loadRestored(): void {
    const all = this.restoredOperatorState;
    if (all.length === 0) return;
    const { subtaskIndex, parallelism } = this.setupInfo.taskInfo;
    // Old instance i goes to new instance i mod parallelism: every input is re-issued once.
    for (let i = subtaskIndex; i < all.length; i += parallelism) {
      const bytes = all[i]?.[IN_FLIGHT_STATE];
      if (bytes === undefined) continue;
      const r = new BinaryReader(bytes);
      const n = r.varint();
      for (let k = 0; k < n; k++) {
        if (r.u8() === 0) {
          const timestamp = r.f64();
          this.restoredElements.push({ kind: 'record', value: this.inputSerde.deserialize(r.bytes()), timestamp });
        } else {
          this.restoredElements.push({ kind: 'watermark', watermark: r.f64() });
        }
      }
    }
    this.restoredOperatorState = [];
  }

  // ---- completions (outside the task) ----

  /** A request settled: queue it for `drain`, inside the task. */
  completed(e: QueueEntry): void {
    this.completions.push(e);
    this.requestDrain();
  }

  private requestDrain(): void {
    if (this.closed || this.draining) return;
    const w = this.wake;
    if (w !== undefined) {
      this.wake = undefined;
      w();
      return;
    }
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    this.setupInfo.mailbox.execute(this.drainAction);
  }

  // ---- inside the task ----

  /** Handles completions, timeouts and retries; emits what is ready; starts waiting records. */
  private drain(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    try {
      do {
        this.handleCompletions();
        if (this.dlHead !== undefined || this.retrying.length > 0) this.handleDue(this.setupInfo.clock.now());
        this.emitReady();
        this.startWaiting();
      } while (this.completions.length > 0);
    } finally {
      this.draining = false;
    }
    this.armTimer();
    if (this.resolveAvailable !== undefined && this.records < this.capacity) {
      const r = this.resolveAvailable;
      this.resolveAvailable = undefined;
      this.available = undefined;
      r();
    }
  }

  private handleCompletions(): void {
    const c = this.completions;
    // Handling may append (an immediate retry that fails at once): loop on the live length.
    for (let i = 0; i < c.length; i++) {
      const e = c[i] as QueueEntry;
      if (e.state === DONE) {
        this.unlinkDeadline(e);
        if (!this.ordered && e.segment === this.controlsEmitted) this.emitRecord(e);
      } else if (e.state === FAILED) {
        this.unlinkDeadline(e);
        const error = e.error;
        e.error = undefined;
        if (e.attempts < this.maxAttempts && (this.isRetryable === undefined || this.isRetryable(error))) this.retry(e);
        else throw this.userError(error, false);
      }
    }
    c.length = 0;
  }

  private handleDue(now: number): void {
    while (this.dlHead !== undefined && this.dlHead.deadline <= now) this.timedOut(this.dlHead, now);
    const r = this.retrying;
    if (r.length === 0) return;
    let kept = 0;
    for (let i = 0; i < r.length; i++) {
      const e = r[i] as QueueEntry;
      if (e.retryAt <= now) this.attempt(e);
      else r[kept++] = e;
    }
    r.length = kept;
  }

  private timedOut(e: QueueEntry, now: number): void {
    this.unlinkDeadline(e);
    // The request may still answer: leave this entry to it and queue a fresh one in its place.
    const fresh = this.pool.pop() ?? new QueueEntry(this as AsyncWaitOperator<unknown, unknown>);
    fresh.kind = RECORD;
    fresh.value = e.value;
    fresh.timestamp = e.timestamp;
    fresh.attempts = e.attempts;
    fresh.segment = e.segment;
    fresh.prev = e.prev;
    fresh.next = e.next;
    if (e.prev === undefined) this.head = fresh;
    else e.prev.next = fresh;
    if (e.next === undefined) this.tail = fresh;
    else e.next.prev = fresh;
    e.state = ABANDONED;
    e.value = undefined;
    e.prev = undefined;
    e.next = undefined;
    if (fresh.attempts < this.maxAttempts) {
      this.retry(fresh, now);
      return;
    }
    const onTimeout = this.fn?.timeout;
    if (onTimeout === undefined) throw this.userError(new AsyncTimeoutError(this.timeoutMs, fresh.attempts), false);
    let results: readonly TOut[];
    try {
      results = onTimeout.call(this.fn, fresh.value as TIn);
    } catch (err) {
      throw this.userError(err, false);
    }
    fresh.state = DONE;
    fresh.result = results;
    this.completions.push(fresh);
  }

  private retry(e: QueueEntry, now = this.setupInfo.clock.now()): void {
    const b = this.backoff;
    const delay = typeof b === 'function' ? b(e.attempts) : b;
    if (!(delay > 0)) {
      this.attempt(e);
      return;
    }
    e.state = BACKOFF;
    e.retryAt = now + delay;
    this.retrying.push(e);
  }

  /** Starts one attempt of `e`'s request. */
  private attempt(e: QueueEntry): void {
    e.attempts++;
    e.state = IN_FLIGHT;
    let r: unknown;
    try {
      r = this.lookup !== undefined ? this.lookup(e.value as TIn) : (this.fn as AsyncFunction<TIn, TOut>).asyncInvoke(e.value as TIn);
    } catch (err) {
      e.state = FAILED;
      e.error = err;
      this.completions.push(e);
      return;
    }
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof (r as PromiseLike<unknown>).then === 'function') {
      if (this.timeoutMs !== Number.POSITIVE_INFINITY) {
        const deadline = this.setupInfo.clock.now() + this.timeoutMs;
        e.deadline = deadline;
        this.linkDeadline(e);
        if (deadline < this.timerAt && !this.draining) this.armTimer();
      }
      (r as PromiseLike<unknown>).then(e.onResult, e.onError);
    } else {
      e.state = DONE;
      e.result = r;
      this.completions.push(e);
    }
  }

  private startWaiting(): void {
    while (this.firstNotStarted !== undefined && this.started < this.capacity) {
      const e = this.firstNotStarted;
      let n = e.next;
      while (n !== undefined && n.kind !== RECORD) n = n.next;
      this.firstNotStarted = n;
      this.started++;
      this.attempt(e);
    }
  }

  private emitReady(): void {
    if (this.ordered) {
      for (let h = this.head; h !== undefined; h = this.head) {
        if (h.kind !== RECORD) this.emitControl(h);
        else if (h.state === DONE) this.emitRecord(h);
        else return;
      }
      return;
    }
    // Unordered: records of the first segment were emitted as they completed; a control entry
    // at the head opens the next segment, whose completed records go out right after it.
    for (let h = this.head; h !== undefined && h.kind !== RECORD; h = this.head) {
      this.emitControl(h);
      for (let e = this.head; e !== undefined && e.kind === RECORD; ) {
        const n = e.next;
        if (e.state === DONE) this.emitRecord(e);
        e = n;
      }
    }
  }

  private emitRecord(e: QueueEntry): void {
    const result = e.result;
    const ts = e.timestamp;
    this.unlinkDeadline(e);
    this.unlink(e);
    this.records--;
    this.started--;
    this.recycle(e);
    if (this.fn === undefined) {
      this.output.collect(result as TOut, ts);
      return;
    }
    if (!Array.isArray(result)) {
      throw this.userError(new TypeError(`asyncInvoke must resolve to an array of results, got ${typeof result}`), false);
    }
    for (let i = 0; i < result.length; i++) this.output.collect(result[i] as TOut, ts);
  }

  private emitControl(e: QueueEntry): void {
    const kind = e.kind;
    const ts = e.timestamp;
    this.unlink(e);
    this.controlsEmitted++;
    this.recycle(e);
    if (kind === WATERMARK) this.output.emitWatermark(ts);
    else this.output.emitIdle(kind === IDLE);
  }

  private enqueueControl(kind: number, value: number): void {
    const e = this.pool.pop() ?? new QueueEntry(this as AsyncWaitOperator<unknown, unknown>);
    e.kind = kind;
    e.state = DONE;
    e.timestamp = value;
    this.append(e);
    this.controlsEnqueued++;
  }

  /** One clock callback, for the earliest deadline or retry. */
  private armTimer(): void {
    let next = this.dlHead === undefined ? Number.POSITIVE_INFINITY : this.dlHead.deadline;
    const r = this.retrying;
    for (let i = 0; i < r.length; i++) if ((r[i] as QueueEntry).retryAt < next) next = (r[i] as QueueEntry).retryAt;
    if (next === Number.POSITIVE_INFINITY || next >= this.timerAt || this.closed) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.setupInfo.clock.schedule(next, this.onClock);
  }

  // ---- lists ----

  private append(e: QueueEntry): void {
    e.next = undefined;
    e.prev = this.tail;
    if (this.tail === undefined) this.head = e;
    else this.tail.next = e;
    this.tail = e;
  }

  private unlink(e: QueueEntry): void {
    if (e.prev === undefined) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = undefined;
    e.next = undefined;
  }

  private linkDeadline(e: QueueEntry): void {
    // Attempts start in clock order with the same timeout, so appending keeps deadline order.
    e.inDeadlines = true;
    e.dlNext = undefined;
    e.dlPrev = this.dlTail;
    if (this.dlTail === undefined) this.dlHead = e;
    else this.dlTail.dlNext = e;
    this.dlTail = e;
  }

  private unlinkDeadline(e: QueueEntry): void {
    if (!e.inDeadlines) return;
    e.inDeadlines = false;
    if (e.dlPrev === undefined) this.dlHead = e.dlNext;
    else e.dlPrev.dlNext = e.dlNext;
    if (e.dlNext === undefined) this.dlTail = e.dlPrev;
    else e.dlNext.dlPrev = e.dlPrev;
    e.dlPrev = undefined;
    e.dlNext = undefined;
  }

  private recycle(e: QueueEntry): void {
    e.state = FREE;
    e.value = undefined;
    e.result = undefined;
    if (this.pool.length < this.capacity + 8) this.pool.push(e);
  }

  // ---- introspection (harnesses, metrics) ----

  /** Records held (in flight, waiting, or completed but not emitted). */
  get queuedRecords(): number {
    return this.records;
  }

  /** Requests currently in flight. */
  get inFlightRequests(): number {
    let n = 0;
    for (let e = this.head; e !== undefined; e = e.next) if (e.kind === RECORD && e.state === IN_FLIGHT) n++;
    return n;
  }
}
