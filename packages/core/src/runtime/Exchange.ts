import { UserFunctionError } from '../api/errors.js';
import type { OutputTag } from '../api/OutputTag.js';
import type { KeySelector, KeyType } from '../api/types.js';
import { keyGroupFor, subtaskForKeyGroup } from './keygroups.js';
import type { Output } from './Output.js';

/** Element kinds inside a batch. @internal */
export const RECORD = 0;
/** @internal */
export const WATERMARK = 1;
/** @internal */
export const STATUS_IDLE = 2;
/** @internal */
export const STATUS_ACTIVE = 3;
/** @internal */
export const END_OF_INPUT = 4;
/** A checkpoint barrier; the timestamp slot carries the checkpoint id. @internal */
export const BARRIER = 5;

/**
 * A batch of stream elements in parallel arrays: kinds, values, timestamps. Batches are pooled
 * per channel and reused, so moving records between tasks allocates nothing per record.
 * @internal
 */
export class ElementBatch {
  readonly kinds: Uint8Array;
  readonly values: unknown[];
  readonly timestamps: Float64Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.values = new Array(capacity).fill(undefined);
    this.timestamps = new Float64Array(capacity);
  }

  clear(): void {
    this.values.fill(undefined, 0, this.size);
    this.size = 0;
  }
}

/**
 * Who a channel wakes up: the consumer when data arrives, the producer when credit returns.
 * @internal
 */
export interface ChannelListener {
  onChannelData(): void;
  onChannelCredit(): void;
  /** The producer's last publish used up the channel's credit: stop producing this step. */
  onChannelFull?(): void;
}

/**
 * A bounded FIFO of batches from one producer subtask to one consumer subtask, in one thread.
 * The producer may publish while the channel has credit (fewer than `capacityBatches` queued);
 * a producer that finds no credit stops before its next step and is woken when the consumer
 * returns a batch. This is the backpressure: a slow consumer stops its producers, transitively
 * up to the sources, and memory stays bounded.
 * @internal
 */
export class LocalChannel {
  private readonly queue: ElementBatch[] = [];
  private head = 0;
  private readonly pool: ElementBatch[] = [];
  private current: ElementBatch;
  producerWaiting = false;
  ended = false;
  consumer: ChannelListener | undefined;
  producer: ChannelListener | undefined;

  constructor(
    readonly batchSize: number,
    readonly capacityBatches: number,
    /** Which logical input of the consumer this channel feeds (0 or 1). */
    readonly inputIndex: number,
  ) {
    this.current = new ElementBatch(batchSize);
  }

  /** Batches waiting to be consumed. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  hasCredit(): boolean {
    return this.queue.length - this.head < this.capacityBatches;
  }

  writeRecord(value: unknown, timestamp: number): void {
    const b = this.current;
    const i = b.size++;
    b.kinds[i] = RECORD;
    b.values[i] = value;
    b.timestamps[i] = timestamp;
    if (b.size === b.capacity) this.publish();
  }

  writeControl(kind: number, timestamp: number): void {
    const b = this.current;
    const i = b.size++;
    b.kinds[i] = kind;
    b.timestamps[i] = timestamp;
    if (b.size === b.capacity) this.publish();
  }

  /** Hands the batch being filled to the consumer. */
  publish(): void {
    const b = this.current;
    if (b.size === 0) return;
    this.queue.push(b);
    this.current = this.pool.pop() ?? new ElementBatch(this.batchSize);
    if (this.queue.length - this.head >= this.capacityBatches) this.producer?.onChannelFull?.();
    this.consumer?.onChannelData();
  }

  poll(): ElementBatch | undefined {
    if (this.head >= this.queue.length) return undefined;
    const b = this.queue[this.head] as ElementBatch;
    this.queue[this.head] = undefined as unknown as ElementBatch;
    this.head++;
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return b;
  }

  recycle(b: ElementBatch): void {
    b.clear();
    if (this.pool.length < this.capacityBatches + 1) this.pool.push(b);
    if (this.producerWaiting && this.hasCredit()) {
      this.producerWaiting = false;
      this.producer?.onChannelCredit();
    }
  }
}

/** How records are spread over the consumer's subtasks. @internal */
export type PartitionerKind = 'forward' | 'rebalance' | 'hash' | 'broadcast';

/**
 * The end of a chain: writes records into the channels of one exchange.
 * @internal
 */
export class ExchangeOutput implements Output<unknown> {
  private nextChannel: number;
  private readonly n: number;
  /** The keyed operator a hash exchange feeds: a throwing key selector is reported as its error. */
  keyedTarget: { readonly name: string; readonly uid: string } | undefined = undefined;

  constructor(
    readonly channels: LocalChannel[],
    private readonly kind: PartitionerKind,
    private readonly keySelector: KeySelector<unknown, KeyType> | undefined,
    private readonly maxParallelism: number,
    private readonly subtaskIndex: number,
  ) {
    this.n = channels.length;
    this.nextChannel = subtaskIndex % Math.max(1, this.n);
  }

  collect(value: unknown, timestamp: number): void {
    const ch = this.channels;
    switch (this.kind) {
      case 'forward':
        (ch[0] as LocalChannel).writeRecord(value, timestamp);
        return;
      case 'rebalance': {
        const i = this.nextChannel;
        this.nextChannel = i + 1 === this.n ? 0 : i + 1;
        (ch[i] as LocalChannel).writeRecord(value, timestamp);
        return;
      }
      case 'hash': {
        // One consumer owns every key group: nothing to route (the keyed operator computes the
        // key and its group itself), so skip the key selector and the hash.
        if (this.n === 1) {
          (ch[0] as LocalChannel).writeRecord(value, timestamp);
          return;
        }
        let key: KeyType;
        try {
          key = (this.keySelector as KeySelector<unknown, KeyType>)(value);
        } catch (e) {
          const t = this.keyedTarget ?? { name: 'keyBy', uid: 'keyBy' };
          throw new UserFunctionError(t.name, t.uid, this.subtaskIndex, undefined, false, e);
        }
        const kg = keyGroupFor(key, this.maxParallelism);
        (ch[subtaskForKeyGroup(kg, this.n, this.maxParallelism)] as LocalChannel).writeRecord(value, timestamp);
        return;
      }
      case 'broadcast':
        for (let i = 0; i < this.n; i++) (ch[i] as LocalChannel).writeRecord(value, timestamp);
        return;
    }
  }

  collectSide(_tag: OutputTag<unknown>, _value: unknown, _timestamp: number): void {
    // Side outputs are routed by the producing operator's OperatorOutput, never through here.
  }

  emitWatermark(watermark: number): void {
    for (let i = 0; i < this.n; i++) (this.channels[i] as LocalChannel).writeControl(WATERMARK, watermark);
  }

  emitIdle(idle: boolean): void {
    for (let i = 0; i < this.n; i++) (this.channels[i] as LocalChannel).writeControl(idle ? STATUS_IDLE : STATUS_ACTIVE, 0);
  }

  /** Broadcasts checkpoint barrier `id` to every channel and publishes it at once. */
  emitBarrier(id: number): void {
    for (let i = 0; i < this.n; i++) {
      const c = this.channels[i] as LocalChannel;
      c.writeControl(BARRIER, id);
      c.publish();
    }
  }

  endOfInput(): void {
    for (let i = 0; i < this.n; i++) {
      const c = this.channels[i] as LocalChannel;
      c.writeControl(END_OF_INPUT, 0);
      c.publish();
    }
  }

  flush(): void {
    for (let i = 0; i < this.n; i++) (this.channels[i] as LocalChannel).publish();
  }

  hasCredit(): boolean {
    for (let i = 0; i < this.n; i++) if (!(this.channels[i] as LocalChannel).hasCredit()) return false;
    return true;
  }

  /** Registers interest in the first channel without credit; false when all have credit. */
  waitForCredit(): boolean {
    for (let i = 0; i < this.n; i++) {
      const c = this.channels[i] as LocalChannel;
      if (!c.hasCredit()) {
        c.producerWaiting = true;
        return true;
      }
    }
    return false;
  }
}
