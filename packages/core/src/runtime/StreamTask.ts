import type { Clock } from '../api/Clock.js';
import type { Cancellable } from '../api/types.js';
import {
  type ChannelListener,
  type ElementBatch,
  END_OF_INPUT,
  type ExchangeOutput,
  type LocalChannel,
  RECORD,
  STATUS_ACTIVE,
  STATUS_IDLE,
  WATERMARK,
} from './Exchange.js';
import type { ProcessingTimeService } from './InternalTimerService.js';
import { SourceOperator } from './operators/SourceOperator.js';
import {
  type AnyOneInputOperator,
  type AnyTwoInputOperator,
  isTwoInput,
  type StreamOperator,
} from './StreamOperator.js';
import { WatermarkValve } from './WatermarkValve.js';

/** Schedules tasks; implemented by the executor. @internal */
export interface TaskScheduler {
  schedule(task: StreamTask): void;
  taskFinished(task: StreamTask): void;
  taskFailed(task: StreamTask, error: unknown): void;
}

/** Lifecycle of a task. @internal */
export type TaskStatus = 'created' | 'running' | 'finishing' | 'finished' | 'failed' | 'cancelled';

const SOURCE_BUDGET = 1024;
const INPUT_BATCH_BUDGET = 4;

/**
 * One subtask of one chain: its operators (head first), input channels and exchange outputs.
 * The scheduler calls `step()`; a step runs pending mails (timers), then, if every output has
 * credit and every sink is available, processes a bounded amount of input synchronously and
 * flushes its outputs. Async happens only between steps.
 * @internal
 */
export class StreamTask implements ChannelListener, ProcessingTimeService {
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
  private readonly mailbox: Array<() => void> = [];
  private readonly valves: WatermarkValve[];
  /** Position of each input channel within its logical input's valve. */
  private readonly channelSlot: number[];
  private readonly channelsPerInput: number[];
  private readonly endedPerInput: number[];
  private rr = 0;
  private readonly timers = new Set<Cancellable>();

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
      if (this.status !== 'running') return;
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

  step(): void {
    if (this.status !== 'running') return;
    while (this.mailbox.length > 0) {
      (this.mailbox.shift() as () => void)();
      if (this.status !== 'running') return;
    }
    for (let i = 0; i < this.exchanges.length; i++) {
      if ((this.exchanges[i] as ExchangeOutput).waitForCredit()) {
        this.waitingForCredit = true;
        return;
      }
    }
    for (let i = 0; i < this.blocking.length; i++) {
      const op = this.blocking[i] as StreamOperator<unknown>;
      if (!op.isAvailable()) {
        op.whenAvailable().then(
          () => this.scheduler.schedule(this),
          (e: unknown) => this.scheduler.taskFailed(this, e),
        );
        return;
      }
    }
    if (this.source !== undefined) this.stepSource(this.source);
    else this.stepInputs();
    for (let i = 0; i < this.exchanges.length; i++) (this.exchanges[i] as ExchangeOutput).flush();
  }

  private stepSource(src: SourceOperator<unknown>): void {
    let status = src.emitNext();
    for (let i = 1; i < SOURCE_BUDGET && status === 'more'; i++) status = src.emitNext();
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
    for (let scanned = 0; scanned < n && processed < INPUT_BATCH_BUDGET; ) {
      const idx = this.rr;
      const ch = chans[idx] as LocalChannel;
      const b = ch.poll();
      if (b === undefined) {
        this.rr = idx + 1 === n ? 0 : idx + 1;
        scanned++;
        continue;
      }
      scanned = 0;
      processed++;
      this.processBatch(ch, idx, b);
      ch.recycle(b);
      if (this.status !== 'running') return;
    }
    for (let i = 0; i < n; i++) {
      if ((chans[i] as LocalChannel).queued > 0) {
        this.scheduler.schedule(this);
        return;
      }
    }
  }

  private processBatch(ch: LocalChannel, channelIndex: number, b: ElementBatch): void {
    const kinds = b.kinds;
    const values = b.values;
    const ts = b.timestamps;
    const size = b.size;
    const one = this.oneInputHead;
    if (one !== undefined) {
      let records = 0;
      for (let i = 0; i < size; i++) {
        if (kinds[i] === RECORD) {
          records++;
          one.processElement(values[i], ts[i] as number);
        } else {
          this.control(ch, channelIndex, kinds[i] as number, ts[i] as number);
        }
      }
      this.recordsIn += records;
      return;
    }
    const two = this.twoInputHead as AnyTwoInputOperator;
    const first = ch.inputIndex === 0;
    for (let i = 0; i < size; i++) {
      if (kinds[i] === RECORD) {
        this.recordsIn++;
        if (first) two.processElement1(values[i], ts[i] as number);
        else two.processElement2(values[i], ts[i] as number);
      } else {
        this.control(ch, channelIndex, kinds[i] as number, ts[i] as number);
      }
    }
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
        if (w === w) this.deliverWatermark(input, w);
        return;
      }
      case STATUS_IDLE:
      case STATUS_ACTIVE: {
        const before = valve.isIdle;
        const w = valve.inputStatus(slot, kind === STATUS_IDLE);
        if (w === w) this.deliverWatermark(input, w);
        if (before !== valve.isIdle) this.deliverIdle(input, valve.isIdle);
        return;
      }
      case END_OF_INPUT: {
        ch.ended = true;
        const w = valve.inputWatermark(slot, Number.POSITIVE_INFINITY);
        if (w === w) this.deliverWatermark(input, w);
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

  /** End of input: finish operators in topological order, end the exchanges, close. */
  private async finish(): Promise<void> {
    for (const op of this.operators) await op.finish();
    for (const x of this.exchanges) x.endOfInput();
    await this.closeOperators();
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

