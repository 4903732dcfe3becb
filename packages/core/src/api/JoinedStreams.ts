import { WindowedCoGroup } from './CoGroupedStreams.js';
import type { DataStream } from './DataStream.js';
import type { FlatJoinFunction, JoinFunction, TaggedUnion } from './joinFunctions.js';
import type { KeySelector, KeyType, WidenedKey } from './types.js';
import type { Evictor } from './windowing/Evictor.js';
import type { Trigger } from './windowing/Trigger.js';
import type { Window } from './windowing/Window.js';
import type { WindowAssigner } from './windowing/WindowAssigner.js';

/**
 * Two streams to join over windows (`a.join(b)`): pick the key of each side with `where` and
 * `equalTo`, the windows with `window`, then `apply` a {@link JoinFunction}.
 * @example
 * ```ts
 * const pairs = clicks
 *   .join(views)
 *   .where((c) => c.user)
 *   .equalTo((v) => v.user)
 *   .window(TumblingEventTimeWindows.of(60_000))
 *   .apply((click, view) => ({ user: click.user, click: click.id, view: view.id }));
 * ```
 * @public
 */
export class JoinedStreams<TLeft, TRight> {
  /** @internal */
  constructor(
    /** The left input. */
    readonly left: DataStream<TLeft>,
    /** The right input. */
    readonly right: DataStream<TRight>,
  ) {}

  /** The key of the left input. */
  where<K extends KeyType>(keySelector: KeySelector<TLeft, K>): JoinWhere<TLeft, TRight, WidenedKey<K>> {
    if (typeof keySelector !== 'function') throw new TypeError('where expects a key selector function');
    return new JoinWhere<TLeft, TRight, WidenedKey<K>>(this.left, this.right, keySelector as unknown as KeySelector<TLeft, WidenedKey<K>>);
  }
}

/**
 * A window join with its left key set; set the right key with `equalTo`.
 * @public
 */
export class JoinWhere<TLeft, TRight, K extends KeyType> {
  /** @internal */
  constructor(
    private readonly left: DataStream<TLeft>,
    private readonly right: DataStream<TRight>,
    private readonly leftKey: KeySelector<TLeft, K>,
  ) {}

  /** The key of the right input: of the same type as the left key. */
  equalTo(keySelector: KeySelector<TRight, K>): JoinEqualTo<TLeft, TRight, K> {
    if (typeof keySelector !== 'function') throw new TypeError('equalTo expects a key selector function');
    return new JoinEqualTo<TLeft, TRight, K>(this.left, this.right, this.leftKey, keySelector);
  }
}

/**
 * A window join with both keys set; choose the windows with `window`.
 * @public
 */
export class JoinEqualTo<TLeft, TRight, K extends KeyType> {
  /** @internal */
  constructor(
    private readonly left: DataStream<TLeft>,
    private readonly right: DataStream<TRight>,
    private readonly leftKey: KeySelector<TLeft, K>,
    private readonly rightKey: KeySelector<TRight, K>,
  ) {}

  /**
   * Joins the elements of both inputs that share a key and a window.
   * @param assigner - any window assigner; it sees the elements as {@link TaggedUnion}s
   */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<TLeft, TRight>, W>): WindowedJoin<TLeft, TRight, K, W> {
    return new WindowedJoin<TLeft, TRight, K, W>(
      new WindowedCoGroup<TLeft, TRight, K, W>(this.left, this.right, this.leftKey, this.rightKey, assigner),
    );
  }
}

/**
 * A windowed join (Flink's window join, an inner join): when a window of a key fires, every
 * pair `(left, right)` of that key's elements in that window is passed to the join function.
 * Windows holding elements of one side only emit nothing. Output records carry the window's
 * `end − 1` as timestamp. An element belongs to every window the assigner gives it, so with
 * sliding windows a pair is emitted once per window that holds both. With allowed lateness, a
 * late element fires its window again and the window's pairs are emitted again (as in Flink).
 *
 * Implemented as Flink does, over a co-group: both inputs are tagged into one stream, keyed,
 * windowed by the ordinary window operator and split again when a window fires.
 * @public
 */
export class WindowedJoin<TLeft, TRight, K extends KeyType, W extends Window> {
  /** @internal */
  constructor(private readonly coGroup: WindowedCoGroup<TLeft, TRight, K, W>) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<TaggedUnion<TLeft, TRight>, W>): this {
    this.coGroup.trigger(trigger);
    return this;
  }

  /** Sets an evictor. */
  evictor(evictor: Evictor<TaggedUnion<TLeft, TRight>, W>): this {
    this.coGroup.evictor(evictor);
    return this;
  }

  /** How long after a window's end (in event time) elements are still accepted. Default 0. */
  allowedLateness(ms: number): this {
    this.coGroup.allowedLateness(ms);
    return this;
  }

  /**
   * Emits `fn(left, right)` for every pair of the same key in the same window.
   * @returns the joined stream
   */
  apply<R>(fn: JoinFunction<TLeft, TRight, R>): DataStream<R> {
    if (typeof fn !== 'function') throw new TypeError('apply expects a function (left, right) => result');
    return this.coGroup.build<R>('WindowJoin', (lefts, rights, out) => {
      if (lefts.length === 0 || rights.length === 0) return;
      for (const l of lefts) for (const r of rights) out.collect(fn(l, r));
    });
  }

  /**
   * Calls `fn(left, right, out)` for every pair of the same key in the same window; `fn` emits
   * zero or more records through `out`.
   * @returns the joined stream
   */
  flatApply<R>(fn: FlatJoinFunction<TLeft, TRight, R>): DataStream<R> {
    if (typeof fn !== 'function') throw new TypeError('flatApply expects a function (left, right, out) => void');
    return this.coGroup.build<R>('WindowJoin', (lefts, rights, out) => {
      if (lefts.length === 0 || rights.length === 0) return;
      for (const l of lefts) for (const r of rights) fn(l, r, out);
    });
  }
}
