import type { AggregateFunction } from '@weir/core';
import type { ClientEvent } from '../events.js';

/**
 * The running aggregate of one session: plain JSON (numbers and sorted string arrays), so it
 * checkpoints as is. An accumulator with `events === 0` is empty and its times are meaningless.
 * @public
 */
export interface SessionAccumulator {
  /** Event time of the earliest event. */
  first: number;
  /** Event time of the latest event. */
  last: number;
  /** Number of events. */
  events: number;
  /** Number of `playback.started` events. */
  plays: number;
  /** Number of `playback.heartbeat` events. */
  heartbeats: number;
  /** Distinct `content_id`s of playback events, sorted. */
  contents: string[];
  /** Distinct `device.type`s, sorted. */
  devices: string[];
}

/**
 * What {@link SessionAggregate} yields for a fired session: a copy of the accumulator.
 * @public
 */
export type SessionStats = Readonly<Omit<SessionAccumulator, 'contents' | 'devices'>> & {
  readonly contents: readonly string[];
  readonly devices: readonly string[];
};

/** Inserts `s` into the sorted, duplicate-free `xs` unless it is there already. */
function insertSorted(xs: string[], s: string): void {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as string) < s) lo = mid + 1;
    else hi = mid;
  }
  if (xs[lo] !== s) xs.splice(lo, 0, s);
}

/** The sorted, duplicate-free union of two sorted, duplicate-free arrays (a new array). */
function unionSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++] as string);
  while (j < b.length) out.push(b[j++] as string);
  return out;
}

/**
 * The session aggregate: counts events, plays and heartbeats, tracks the first and last event
 * time and the distinct contents played and devices used. `merge` is exact (sums, min/max,
 * set unions), commutative and associative, so a session's result does not depend on the
 * order its events arrived in, nor on how session windows merged on the way (a late event that
 * bridges two sessions merges their accumulators).
 * @public
 */
export class SessionAggregate implements AggregateFunction<ClientEvent, SessionAccumulator, SessionStats> {
  /** An empty session. */
  createAccumulator(): SessionAccumulator {
    return { first: 0, last: 0, events: 0, plays: 0, heartbeats: 0, contents: [], devices: [] };
  }

  /** Adds one event (mutates and returns `acc`). */
  add(e: ClientEvent, acc: SessionAccumulator): SessionAccumulator {
    const ts = e.timestamp_ms;
    if (acc.events === 0) {
      acc.first = ts;
      acc.last = ts;
    } else {
      if (ts < acc.first) acc.first = ts;
      if (ts > acc.last) acc.last = ts;
    }
    acc.events++;
    const type = e.event_type;
    if (type.startsWith('playback.')) {
      if (type === 'playback.heartbeat') acc.heartbeats++;
      else if (type === 'playback.started') acc.plays++;
      insertSorted(acc.contents, e.content_id);
    }
    insertSorted(acc.devices, e.device.type);
    return acc;
  }

  /** A copy of the accumulator, so later (late) updates do not change results already emitted. */
  getResult(acc: SessionAccumulator): SessionStats {
    return { ...acc, contents: acc.contents.slice(), devices: acc.devices.slice() };
  }

  /** Merges `b` into `a` (mutates and returns `a`; never mutates `b`). */
  merge(a: SessionAccumulator, b: SessionAccumulator): SessionAccumulator {
    if (b.events === 0) return a;
    if (a.events === 0) {
      a.first = b.first;
      a.last = b.last;
    } else {
      a.first = Math.min(a.first, b.first);
      a.last = Math.max(a.last, b.last);
    }
    a.events += b.events;
    a.plays += b.plays;
    a.heartbeats += b.heartbeats;
    a.contents = unionSorted(a.contents, b.contents);
    a.devices = unionSorted(a.devices, b.devices);
    return a;
  }
}
