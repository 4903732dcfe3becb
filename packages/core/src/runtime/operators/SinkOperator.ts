import {
  type Committer,
  isTwoPhaseCommittingSink,
  type Sink,
  type SinkWriter,
  type SinkWriterContext,
} from '../../api/Sink.js';
import type { Serde } from '../../api/Serde.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import { BinaryReader, BinaryWriter } from '../../state/codec.js';
import { type OneInputOperator, StreamOperator } from '../StreamOperator.js';
import { ChainLink } from '../Output.js';

const COMMITTABLES = 'committables';

/**
 * Feeds a {@link SinkWriter}. For two-phase-commit sinks it pre-commits at every checkpoint
 * barrier, keeps the committables in the checkpoint, commits them when the checkpoint
 * completes, and re-commits restored committables on start (idempotently).
 * @internal
 */
export class SinkOperator<T> extends StreamOperator<never> implements OneInputOperator<T> {
  private writer!: SinkWriter<T>;
  private committer: Committer<unknown> | undefined;
  private serde: Serde<unknown> | undefined;
  /** Committables per checkpoint id, pre-committed and not yet committed. */
  private readonly pending = new Map<number, Promise<unknown[]>>();

  constructor(private readonly sink: Sink<T>) {
    super();
  }

  private context(): SinkWriterContext {
    return {
      taskInfo: this.setupInfo.taskInfo,
      clock: this.setupInfo.clock,
      attemptId: this.setupInfo.attemptId ?? 'attempt',
      checkpointing: this.setupInfo.checkpointing === true,
    };
  }

  override async open(): Promise<void> {
    const ctx = this.context();
    try {
      if (isTwoPhaseCommittingSink(this.sink)) {
        this.serde = this.sink.committableSerde;
        this.committer = await this.sink.createCommitter(ctx);
        // Restored committables were pre-committed for a checkpoint that completed (or is the
        // one restored): commit them again, once, from subtask 0.
        if (this.setupInfo.taskInfo.subtaskIndex === 0) {
          const restored: unknown[] = [];
          for (const st of this.restoredOperatorState) {
            const blob = st[COMMITTABLES];
            if (blob !== undefined) restored.push(...decodeList(blob, this.serde));
          }
          if (restored.length > 0) await this.committer.commit(restored);
        }
      }
      this.writer = await this.sink.createWriter(ctx);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  createChainLink(): ChainLink<T> {
    return new SinkLink<T>(this);
  }

  processElement(value: T, timestamp: number): void {
    this.recordsIn++;
    try {
      this.writer.write(value, timestamp === NO_TIMESTAMP ? null : timestamp);
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override get canBlock(): boolean {
    return true;
  }

  override isAvailable(): boolean {
    return this.writer.isAvailable === undefined || this.writer.isAvailable();
  }

  override whenAvailable(): Promise<void> {
    return this.writer.whenAvailable === undefined ? Promise.resolve() : this.writer.whenAvailable();
  }

  protected override snapshotOperatorState(checkpointId: number): Record<string, Uint8Array | Promise<Uint8Array>> {
    const prepare = this.writer.prepareCommit;
    if (prepare === undefined) {
      const flushed = this.writer.flush?.(false);
      return flushed === undefined ? {} : { [COMMITTABLES]: Promise.resolve(flushed).then(() => encodeList([], undefined)) };
    }
    const committables = Promise.resolve(prepare.call(this.writer, checkpointId));
    if (this.committer === undefined) {
      // At-least-once: the checkpoint waits for the flush, nothing to commit later.
      return { [COMMITTABLES]: committables.then(() => encodeList([], undefined)) };
    }
    // What earlier checkpoints pre-committed and is not committed yet (an aborted checkpoint, or
    // one whose commit still runs) goes into this checkpoint too: its source positions are past
    // those records, so restoring it must commit them. A failed pre-commit fails the job.
    const earlier = [...this.pending.values()];
    this.pending.set(checkpointId, committables);
    committables.catch((e: unknown) =>
      this.setupInfo.mailbox.execute(() => {
        throw this.userError(e, false);
      }),
    );
    return { [COMMITTABLES]: Promise.all([...earlier, committables]).then((lists) => encodeList(lists.flat(), this.serde)) };
  }

  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    const committer = this.committer;
    if (committer === undefined) return;
    const ids = [...this.pending.keys()].filter((id) => id <= checkpointId).sort((a, b) => a - b);
    for (const id of ids) {
      const list = await (this.pending.get(id) as Promise<unknown[]>);
      // Forgotten only once committed, so a checkpoint taken meanwhile still carries the list.
      if (list.length > 0) await committer.commit(list);
      this.pending.delete(id);
    }
  }

  override notifyCheckpointAborted(checkpointId: number): void {
    // The transaction stays pre-committed; the next completed checkpoint commits it (its id is
    // lower). Nothing to undo here.
    void checkpointId;
  }

  override async finish(): Promise<void> {
    try {
      await this.writer.flush?.(true);
      // Without checkpoints, a two-phase-commit sink commits everything at the end of input.
      // With checkpoints, the final checkpoint commits it.
      if (this.committer !== undefined && this.setupInfo.checkpointing !== true) {
        const list = await (this.writer as { prepareCommit(id: number): unknown[] | Promise<unknown[]> }).prepareCommit(
          Number.MAX_SAFE_INTEGER,
        );
        if (list.length > 0) await this.committer.commit(list);
      }
    } catch (e) {
      throw this.userError(e, false);
    }
  }

  override async close(): Promise<void> {
    await this.writer?.close?.();
    await this.committer?.close?.();
    await super.close();
  }
}

function encodeList(list: readonly unknown[], serde: Serde<unknown> | undefined): Uint8Array {
  const w = new BinaryWriter();
  if (serde === undefined) {
    w.varint(0);
    return w.finish();
  }
  w.varint(list.length);
  for (const c of list) w.bytes(serde.serialize(c));
  return w.finish();
}

function decodeList(bytes: Uint8Array, serde: Serde<unknown>): unknown[] {
  const r = new BinaryReader(bytes);
  const n = r.varint();
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(serde.deserialize(r.bytes()));
  return out;
}

/** The chain link into a sink operator: its own `collect`, so the call is monomorphic. @internal */
class SinkLink<T> extends ChainLink<T> {
  constructor(private readonly target: SinkOperator<T>) {
    super(target);
  }

  collect(value: T, timestamp: number): void {
    this.recordsOut++;
    this.target.processElement(value, timestamp);
  }
}
