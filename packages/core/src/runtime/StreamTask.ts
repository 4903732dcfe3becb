import type { Clock } from '../api/Clock.js';
import type { Cancellable } from '../api/types.js';
import {
  type ChannelListener,
  type ElementBatch,
  BARRIER,
  END_OF_INPUT,
  type ExchangeOutput,
  type LocalChannel,
  RECORD,
  STATUS_ACTIVE,
  STATUS_IDLE,
  WATERMARK,
} from './Exchange.js';
import type { ProcessingTimeService } from './InternalTimerService.js';
import type { Mailbox } from './Mailbox.js';
import { SourceOperator } from './operators/SourceOperator.js';
import {
  type AnyOneInputOperator,
  type AnyTwoInputOperator,
  completeSnapshot,
  isTwoInput,
  type StreamOperator,
} from './StreamOperator.js';
import type { OperatorSubtaskSnapshot } from '../checkpoint/OperatorSnapshot.js';
import type { KeyGroupRange } from './keygroups.js';
import { WatermarkValve } from './WatermarkValve.js';

/** Schedules tasks; implemented by the executor. @internal */
export interface TaskScheduler {
  schedule(task: StreamTask): void;
  taskFinished(task: StreamTask): void;
  taskFailed(task: StreamTask, error: unknown): void;
  /** The task took its snapshot for checkpoint `id` (with checkpointing on). */
  acknowledgeCheckpoint(task: StreamTask, id: number, snapshots: Promise<OperatorSubtaskSnapshot[]>): void;
  /** With checkpointing on: the task processed all its data and waits for the final checkpoint. */
  taskWaitingForFinalCheckpoint(task: StreamTask): void;
}

/**
 * Lifecycle of a task. `waiting`: all input processed and operators finished, but the task
 * stays alive (forwarding barriers) until the final checkpoint completes, so that what it
 * emitted at the end is covered by a checkpoint and committed exactly once.
 */
export type TaskStatus = 'created' | 'running' | 'finishing' | 'waiting' | 'finished' | 'failed' | 'cancelled';

/** How each operator of a task is identified in a checkpoint. @internal */
export interface OperatorIdentity {
  readonly uid: string;
  readonly parallelism: number;
  readonly keyGroupRange: KeyGroupRange | undefined;
}

const SOURCE_BUDGET = 1024;
const INPUT_BATCH_BUDGET = 4;

/**
 * One subtask of one chain: its operators (head first), input channels and exchange outputs.
 * The scheduler calls `step()`; a step runs pending mails (timers), then, if every output has
 * credit and every sink is available, processes a bounded amount of input synchronously and
 * flushes its outputs. Async happens only between steps.
 * @internal
 */
export class StreamTask implements ChannelListener, ProcessingTimeService, Mailbox {
  // configuration
  readonly operators: StreamOperator<unknown>[];
  readonly head: StreamOperator<unknown>;
  private readonly source: SourceOperator<unknown> | undefined;
  private readonly oneInputHead: AnyOneInputOperator | undefined;
  private readonly twoInputHead: AnyTwoInputOperator | undefined;
  private readonly blocking: StreamOperator<unknown>[];
  // transient
  queued = false;
  status: TaskStatus = 'created';
  recordsIn = 0;
  waitingForCredit = false;
  /** Set when a publish used up an output channel's credit during the current step. */
  private creditExhausted = false;
  private readonly mailbox: Array<() => void> = [];
  private readonly valves: WatermarkValve[];
  /** Position of each input channel within its logical input's valve. */
  private readonly channelSlot: number[];
  private readonly channelsPerInput: number[];
  private readonly endedPerInput: number[];
  private rr = 0;
  private readonly timers = new Set<Cancellable>();
  // checkpointing
  /** Batch being read from each input channel, and the position in it (a barrier splits a batch). */
  private readonly current: Array<ElementBatch | undefined>;
  private readonly position: Int32Array;
  /** Channels whose barrier for the checkpoint being aligned has arrived. */
  private readonly blockedChannels: Uint8Array;
  private aligningId = -1;
  private alignedCount = 0;
  /** Highest checkpoint id this task snapshotted or saw aborted; older barriers are stale. */
  private lastBarrierId = -1;
  /** Set by the executor: checkpointing on, identities of the operators. */
  checkpointing = false;
  identities: OperatorIdentity[] = [];
  /** Source tasks stop polling (stop-with-checkpoint). */
  sourcePaused = false;

  constructor(
    readonly name: string,
    readonly subtaskIndex: number,
    operators: StreamOperator<unknown>[],
    readonly inputs: LocalChannel[],
    readonly exchanges: ExchangeOutput[],
    private readonly clock: Clock,
    private readonly scheduler: TaskScheduler,
  ) {
    this.operators = operators;
    this.head = operators[0] as StreamOperator<unknown>;
    this.source = this.head instanceof SourceOperator ? this.head : undefined;
    if (this.source === undefined) {
      if (isTwoInput(this.head)) this.twoInputHead = this.head;
      else this.oneInputHead = this.head as AnyOneInputOperator;
    }
    this.blocking = operators.filter((o) => o.canBlock);
    const numInputs = this.twoInputHead !== undefined ? 2 : 1;
    this.channelsPerInput = new Array(numInputs).fill(0);
    this.endedPerInput = new Array(numInputs).fill(0);
    this.channelSlot = inputs.map((c) => {
      const slot = this.channelsPerInput[c.inputIndex] as number;
      this.channelsPerInput[c.inputIndex] = slot + 1;
      return slot;
    });
    this.valves = this.channelsPerInput.map((n) => new WatermarkValve(n));
    this.current = new Array(inputs.length).fill(undefined);
    this.position = new Int32Array(inputs.length);
    this.blockedChannels = new Uint8Array(inputs.length);
    for (const c of inputs) c.consumer = this;
    for (const x of exchanges) for (const c of x.channels) c.producer = this;
  }

  // ProcessingTimeService: callbacks run from the mailbox, between records.
  now(): number {
    return this.clock.now();
  }

  registerTimer(time: number, callback: (time: number) => void): Cancellable {
    const handle = this.clock.schedule(time, () => {
      this.timers.delete(handle);
      if (this.status !== 'running' && this.status !== 'waiting') return;
      this.mailbox.push(() => callback(this.clock.now()));
      this.scheduler.schedule(this);
    });
    this.timers.add(handle);
    return {
      cancel: () => {
        this.timers.delete(handle);
        handle.cancel();
      },
    };
  }

  onChannelData(): void {
    this.scheduler.schedule(this);
  }

  onChannelCredit(): void {
    this.waitingForCredit = false;
    this.scheduler.schedule(this);
  }

  onChannelFull(): void {
    this.creditExhausted = true;
  }

  /**
   * Whether the current step may push more: every output channel still has credit and every
   * blocking operator (sink) of the chain is available. Checked per record, so what a blocked
   * consumer lets in stays within its channels' capacity.
   */
  private canContinue(): boolean {
    if (this.creditExhausted) return false;
    for (let i = 0; i < this.blocking.length; i++) if (!(this.blocking[i] as StreamOperator<unknown>).isAvailable()) return false;
    return true;
  }

  /** Opens operators tail first, so every operator's consumers are ready before it emits. */
  async open(): Promise<void> {
    for (let i = this.operators.length - 1; i >= 0; i--) await (this.operators[i] as StreamOperator<unknown>).open();
    this.status = 'running';
  }

  /** Whether the task is a source task. */
  get isSource(): boolean {
    return this.source !== undefined;
  }

  /** The source operator of a source task. */
  get sourceOperator(): SourceOperator<unknown> | undefined {
    return this.source;
  }

  /** Runs `action` inside the task, between records. */
  execute(action: () => void): void {
    this.mailbox.push(action);
    this.scheduler.schedule(this);
  }

  step(): void {
    const status = this.status;
    if (status !== 'running' && status !== 'waiting') return;
    while (this.mailbox.length > 0) {
      (this.mailbox.shift() as () => void)();
      if (this.status !== 'running' && this.status !== 'waiting') return;
    }
    if (this.status === 'waiting') {
      // Only barriers still flow through a task that finished its data.
      if (this.source === undefined) this.stepInputs();
      for (let i = 0; i < this.exchanges.length; i++) (this.exchanges[i] as ExchangeOutput).flush();
      return;
    }
    for (let i = 0; i < this.exchanges.length; i++) {
      if ((this.exchanges[i] as ExchangeOutput).waitForCredit()) {
        this.waitingForCredit = true;
        return;
      }
    }
    this.creditExhausted = false;
    for (let i = 0; i < this.blocking.length; i++) {
      const op = this.blocking[i] as StreamOperator<unknown>;
      if (!op.isAvailable()) {
        // Mails may have emitted (timers, async results): hand that downstream while blocked.
        for (let j = 0; j < this.exchanges.length; j++) (this.exchanges[j] as ExchangeOutput).flush();
        op.whenAvailable().then(
          () => this.scheduler.schedule(this),
          (e: unknown) => this.scheduler.taskFailed(this, e),
        );
        return;
      }
    }
    if (this.source !== undefined) {
      if (!this.sourcePaused) this.stepSource(this.source);
    } else this.stepInputs();
    for (let i = 0; i < this.exchanges.length; i++) (this.exchanges[i] as ExchangeOutput).flush();
  }

  private stepSource(src: SourceOperator<unknown>): void {
    let status = src.emitNext();
    for (let i = 1; i < SOURCE_BUDGET && status === 'more' && this.canContinue(); i++) status = src.emitNext();
    if (status === 'more') {
      this.scheduler.schedule(this);
    } else if (status === 'nothing') {
      src.reader.isAvailable().then(
        () => this.scheduler.schedule(this),
        (e: unknown) => this.scheduler.taskFailed(this, e),
      );
    } else {
      src.endOfInput();
      this.beginFinish();
    }
  }

  private stepInputs(): void {
    const chans = this.inputs;
    const n = chans.length;
    let processed = 0;
    // While running, stop taking batches once an output is out of credit or a sink is blocked
    // (a task that is only waiting for barriers must keep reading them).
    for (let scanned = 0; scanned < n && processed < INPUT_BATCH_BUDGET && (this.status !== 'running' || this.canContinue()); ) {
      const idx = this.rr;
      const ch = chans[idx] as LocalChannel;
      let b = this.current[idx];
      if (this.blockedChannels[idx] === 1 || (b === undefined && (b = ch.poll()) === undefined)) {
        this.rr = idx + 1 === n ? 0 : idx + 1;
        scanned++;
        continue;
      }
      if (this.current[idx] === undefined) {
        this.current[idx] = b;
        this.position[idx] = 0;
      }
      scanned = 0;
      processed++;
      if (this.processBatch(ch, idx, b, this.position[idx] as number)) {
        this.current[idx] = undefined;
        ch.recycle(b);
      }
      if (this.status !== 'running' && this.status !== 'waiting') return;
    }
    for (let i = 0; i < n; i++) {
      if (this.blockedChannels[i] === 0 && (this.current[i] !== undefined || (chans[i] as LocalChannel).queued > 0)) {
        this.scheduler.schedule(this);
        return;
      }
    }
  }

  /**
   * Processes a batch from `start`; stops right after a barrier (the rest of the batch may
   * belong after the checkpoint).
   * @returns whether the batch was consumed to its end
   */
  private processBatch(ch: LocalChannel, channelIndex: number, b: ElementBatch, start: number): boolean {
    const kinds = b.kinds;
    const values = b.values;
    const ts = b.timestamps;
    const size = b.size;
    const one = this.oneInputHead;
    if (one !== undefined) {
      let records = 0;
      for (let i = start; i < size; i++) {
        const k = kinds[i];
        if (k === RECORD) {
          records++;
          one.processElement(values[i], ts[i] as number);
        } else if (k === BARRIER) {
          this.recordsIn += records;
          this.position[channelIndex] = i + 1;
          this.onBarrier(channelIndex, ts[i] as number);
          return i + 1 >= size;
        } else {
          this.control(ch, channelIndex, k as number, ts[i] as number);
          if (this.status !== 'running' && this.status !== 'waiting') {
            // End of input began finishing: the rest (barriers) is read once it waits.
            this.recordsIn += records;
            this.position[channelIndex] = i + 1;
            return i + 1 >= size;
          }
        }
      }
      this.recordsIn += records;
      return true;
    }
    const two = this.twoInputHead as AnyTwoInputOperator;
    const first = ch.inputIndex === 0;
    for (let i = start; i < size; i++) {
      const k = kinds[i];
      if (k === RECORD) {
        this.recordsIn++;
        if (first) two.processElement1(values[i], ts[i] as number);
        else two.processElement2(values[i], ts[i] as number);
      } else if (k === BARRIER) {
        this.position[channelIndex] = i + 1;
        this.onBarrier(channelIndex, ts[i] as number);
        return i + 1 >= size;
      } else {
        this.control(ch, channelIndex, k as number, ts[i] as number);
        if (this.status !== 'running' && this.status !== 'waiting') {
          this.position[channelIndex] = i + 1;
          return i + 1 >= size;
        }
      }
    }
    return true;
  }

  /**
   * Barrier alignment: a channel that delivered barrier `id` is blocked until every input
   * channel has delivered it; then the task snapshots its operators, forwards the barrier and
   * unblocks its inputs.
   */
  private onBarrier(channelIndex: number, id: number): void {
    if (id <= this.lastBarrierId) return; // aborted or already taken
    if (this.aligningId !== id) {
      if (this.aligningId !== -1) this.releaseAlignment(); // a newer checkpoint supersedes
      this.aligningId = id;
      this.alignedCount = 0;
    }
    if (this.blockedChannels[channelIndex] === 0) {
      this.blockedChannels[channelIndex] = 1;
      this.alignedCount++;
    }
    if (this.alignedCount === this.inputs.length) {
      this.releaseAlignment();
      this.performCheckpoint(id);
    }
  }

  private releaseAlignment(): void {
    this.blockedChannels.fill(0);
    this.aligningId = -1;
    this.alignedCount = 0;
    this.scheduler.schedule(this);
  }

  /** Source tasks: checkpoint `id` was triggered. */
  triggerCheckpoint(id: number): void {
    this.execute(() => {
      if (this.status === 'running' || this.status === 'waiting') this.performCheckpoint(id);
    });
  }

  /** Snapshots every operator of the chain, forwards the barrier, acknowledges asynchronously. */
  private performCheckpoint(id: number): void {
    this.lastBarrierId = id;
    const pending = this.operators.map((op) => op.snapshotState(id));
    for (let i = 0; i < this.exchanges.length; i++) (this.exchanges[i] as ExchangeOutput).emitBarrier(id);
    const snapshots = Promise.all(
      pending.map((p, i) => {
        const ident = this.identities[i] as OperatorIdentity;
        return completeSnapshot(p, {
          uid: ident.uid,
          subtask: this.subtaskIndex,
          parallelism: ident.parallelism,
          keyGroupRange: ident.keyGroupRange,
        });
      }),
    ).then((all) => all.filter(hasState));
    this.scheduler.acknowledgeCheckpoint(this, id, snapshots);
  }

  /** Checkpoint `id` completed: operators commit (sinks) or clean up. */
  async notifyCheckpointComplete(id: number): Promise<void> {
    for (const op of this.operators) await op.notifyCheckpointComplete(id);
  }

  /** Checkpoint `id` was aborted: stop waiting for its barriers. */
  abortCheckpoint(id: number): void {
    if (id > this.lastBarrierId) this.lastBarrierId = id;
    if (this.aligningId === id) this.releaseAlignment();
    for (const op of this.operators) op.notifyCheckpointAborted(id);
  }

  private control(ch: LocalChannel, channelIndex: number, kind: number, value: number): void {
    const input = ch.inputIndex;
    const valve = this.valves[input] as WatermarkValve;
    const slot = this.channelSlot[channelIndex] as number;
    switch (kind) {
      case WATERMARK: {
        const wasIdle = valve.isIdle;
        const w = valve.inputWatermark(slot, value);
        // A watermark on an idle input makes it active: say so before the watermark.
        if (wasIdle !== valve.isIdle) this.deliverIdle(input, valve.isIdle);
        if (!Number.isNaN(w)) this.deliverWatermark(input, w);
        return;
      }
      case STATUS_IDLE:
      case STATUS_ACTIVE: {
        const before = valve.isIdle;
        const w = valve.inputStatus(slot, kind === STATUS_IDLE);
        if (!Number.isNaN(w)) this.deliverWatermark(input, w);
        if (before !== valve.isIdle) this.deliverIdle(input, valve.isIdle);
        return;
      }
      case END_OF_INPUT: {
        ch.ended = true;
        const w = valve.inputWatermark(slot, Number.POSITIVE_INFINITY);
        if (!Number.isNaN(w)) this.deliverWatermark(input, w);
        this.endedPerInput[input] = (this.endedPerInput[input] as number) + 1;
        let allEnded = true;
        for (let i = 0; i < this.channelsPerInput.length; i++) {
          if ((this.endedPerInput[i] as number) < (this.channelsPerInput[i] as number)) allEnded = false;
        }
        if (allEnded) this.beginFinish();
      }
    }
  }

  private deliverWatermark(input: number, w: number): void {
    const two = this.twoInputHead;
    if (two === undefined) this.head.processWatermark(w);
    else if (input === 0) two.processWatermark1(w);
    else two.processWatermark2(w);
  }

  private deliverIdle(input: number, idle: boolean): void {
    const two = this.twoInputHead;
    if (two === undefined) this.head.processIdle(idle);
    else if (input === 0) two.processIdle1(idle);
    else two.processIdle2(idle);
  }

  private beginFinish(): void {
    this.status = 'finishing';
    this.finish().then(
      () => {
        this.status = 'finished';
        this.scheduler.taskFinished(this);
      },
      (e: unknown) => this.scheduler.taskFailed(this, e),
    );
  }

  /**
   * End of input: finish operators in topological order and end the exchanges. Without
   * checkpointing the task then closes; with checkpointing it waits for the final checkpoint
   * (see {@link TaskStatus}), and the executor closes it with {@link StreamTask.terminate}.
   */
  private async finish(): Promise<void> {
    for (const op of this.operators) await op.finish();
    for (const x of this.exchanges) x.endOfInput();
    if (this.checkpointing) {
      this.status = 'waiting';
      this.scheduler.taskWaitingForFinalCheckpoint(this);
      this.scheduler.schedule(this);
      await new Promise<void>((resolve) => {
        this.release = resolve;
      });
    }
    await this.closeOperators();
  }

  private release: (() => void) | undefined;

  /** Closes a task that waits for the final checkpoint. */
  terminate(): void {
    const r = this.release;
    this.release = undefined;
    r?.();
  }

  private async closeOperators(): Promise<void> {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    for (const op of this.operators) await op.close();
  }

  /** Stops the task after a failure or cancellation; errors while closing are ignored. */
  async abort(status: 'failed' | 'cancelled'): Promise<void> {
    const wasOpen = this.status !== 'created';
    this.status = status;
    this.mailbox.length = 0;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    if (!wasOpen) return;
    for (const op of this.operators) {
      try {
        await op.close();
      } catch {
        // The job already failed or was cancelled; a close error adds nothing.
      }
    }
  }
}


/** Stateless operators leave nothing in a checkpoint, so they can be added or removed freely. */
function hasState(s: OperatorSubtaskSnapshot): boolean {
  if (s.timers.length > 0 || Object.keys(s.operatorState).length > 0) return true;
  return s.keyed !== undefined && s.keyed.states.some((st) => st.keyGroups.length > 0);
}
