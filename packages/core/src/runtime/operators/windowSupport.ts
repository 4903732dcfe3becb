import type { OutputTag } from '../../api/OutputTag.js';
import { NO_TIMESTAMP } from '../../api/types.js';
import type { StreamOperator } from '../StreamOperator.js';

/*
 * What the window operators (generic, pane, per-key record and session) share on their element
 * path, besides key selection (`setCurrentKeyOf` in processFunctionSupport.ts).
 */

/**
 * Fails an element without an event-time timestamp. `assigner` is only turned into text when it
 * fails (no string is built per element).
 * @internal
 */
export function requireEventTime(timestamp: number, assigner: object): void {
  if (timestamp === NO_TIMESTAMP) {
    throw new TypeError(
      `record has no event-time timestamp but ${String(assigner)} assigns event-time windows: call assignTimestampsAndWatermarks(...) upstream`,
    );
  }
}

/**
 * An element later than the allowed lateness: to the late-data side output if there is one,
 * else counted as dropped.
 * @internal
 */
export function routeLateElement(op: StreamOperator<unknown>, tag: OutputTag<unknown> | undefined, value: unknown, timestamp: number): void {
  if (tag !== undefined) op.output.collectSide(tag, value, timestamp);
  else op.numLateRecordsDropped++;
}
