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

/**
 * A deduplicating priority queue of timers ordered by (timestamp, registration order), with
 * O(log n) add, delete and poll.
 * @internal
 */
export class TimerHeap {
  private readonly heap: InternalTimer[] = [];
  /**
   * Dedup index: namespace → key → timestamp → timer. Nested maps instead of a composite
   * string id, so registering a timer (often once per record) allocates nothing when the
   * timer already exists.
   */
  private readonly index = new Map<Namespace, Map<KeyType, Map<number, InternalTimer> | InternalTimer>>();
  private seq = 0;

  private find(key: KeyType, namespace: Namespace, timestamp: number): InternalTimer | undefined {
    const byKey = this.index.get(namespace);
    if (byKey === undefined) return undefined;
    const e = byKey.get(key);
    if (e === undefined) return undefined;
    if (e instanceof Map) return e.get(timestamp);
    return e.timestamp === timestamp ? e : undefined;
  }

  private insertIndex(t: InternalTimer): void {
    let byKey = this.index.get(t.namespace);
    if (byKey === undefined) {
      byKey = new Map();
      this.index.set(t.namespace, byKey);
    }
    const e = byKey.get(t.key);
    if (e === undefined) byKey.set(t.key, t);
    else if (e instanceof Map) e.set(t.timestamp, t);
    else byKey.set(t.key, new Map([[e.timestamp, e], [t.timestamp, t]]));
  }

  private removeIndex(t: InternalTimer): void {
    const byKey = this.index.get(t.namespace);
    if (byKey === undefined) return;
    const e = byKey.get(t.key);
    if (e === undefined) return;
    if (e instanceof Map) {
      e.delete(t.timestamp);
      if (e.size === 1) {
        const only = e.values().next().value as InternalTimer;
        byKey.set(t.key, only);
      } else if (e.size === 0) byKey.delete(t.key);
    } else if (e === t) byKey.delete(t.key);
    if (byKey.size === 0) this.index.delete(t.namespace);
  }

  get size(): number {
    return this.heap.length;
  }

  /** @returns true when the timer was new */
  add(timestamp: number, key: KeyType, keyGroup: number, namespace: Namespace): boolean {
    if (this.find(key, namespace, timestamp) !== undefined) return false;
    const t: InternalTimer = { timestamp, key, keyGroup, namespace, seq: this.seq++, index: this.heap.length };
    this.insertIndex(t);
    this.heap.push(t);
    this.up(t.index);
    return true;
  }

  /** @returns true when a timer was removed */
  delete(timestamp: number, key: KeyType, namespace: Namespace): boolean {
    const t = this.find(key, namespace, timestamp);
    if (t === undefined) return false;
    this.removeIndex(t);
    this.removeAt(t.index);
    return true;
  }

  peek(): InternalTimer | undefined {
    return this.heap[0];
  }

  poll(): InternalTimer | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.removeIndex(top);
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
