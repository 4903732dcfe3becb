import type { KeyType } from '../api/types.js';
import type { Namespace } from '../state/StateBackend.js';

/**
 * One registered timer. Timers are unique per (key, namespace, timestamp).
 * @internal
 */
export interface InternalTimer {
  readonly timestamp: number;
  readonly key: KeyType;
  readonly keyGroup: number;
  readonly namespace: Namespace;
  /** Insertion order: ties on timestamp fire in registration order. */
  readonly seq: number;
  /** Position in the heap array, -1 when removed. */
  index: number;
}

function timerId(key: KeyType, namespace: Namespace, timestamp: number): string {
  // The type tags keep 1 and '1' apart; '\u0000' cannot be confused with a number's text.
  return `${typeof key === 'string' ? 's' : (typeof key).charAt(0)}${String(key)}\u0000${typeof namespace === 'string' ? 's' : 'n'}${namespace}\u0000${timestamp}`;
}

/**
 * A deduplicating priority queue of timers ordered by (timestamp, registration order), with
 * O(log n) add, delete and poll.
 * @internal
 */
export class TimerHeap {
  private readonly heap: InternalTimer[] = [];
  private readonly byId = new Map<string, InternalTimer>();
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** @returns true when the timer was new */
  add(timestamp: number, key: KeyType, keyGroup: number, namespace: Namespace): boolean {
    const id = timerId(key, namespace, timestamp);
    if (this.byId.has(id)) return false;
    const t: InternalTimer = { timestamp, key, keyGroup, namespace, seq: this.seq++, index: this.heap.length };
    this.byId.set(id, t);
    this.heap.push(t);
    this.up(t.index);
    return true;
  }

  /** @returns true when a timer was removed */
  delete(timestamp: number, key: KeyType, namespace: Namespace): boolean {
    const id = timerId(key, namespace, timestamp);
    const t = this.byId.get(id);
    if (t === undefined) return false;
    this.byId.delete(id);
    this.removeAt(t.index);
    return true;
  }

  peek(): InternalTimer | undefined {
    return this.heap[0];
  }

  poll(): InternalTimer | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.byId.delete(timerId(top.key, top.namespace, top.timestamp));
    this.removeAt(0);
    return top;
  }

  /** All timers, in no particular order. */
  all(): readonly InternalTimer[] {
    return this.heap;
  }

  private less(a: InternalTimer, b: InternalTimer): boolean {
    return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const removed = h[i] as InternalTimer;
    const last = h.pop() as InternalTimer;
    removed.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i] as InternalTimer;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as InternalTimer;
      if (!this.less(t, parent)) break;
      h[i] = parent;
      parent.index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i] as InternalTimer;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(h[r] as InternalTimer, h[l] as InternalTimer)) c = r;
      const child = h[c] as InternalTimer;
      if (!this.less(child, t)) break;
      h[i] = child;
      child.index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}
