import type { DataStream } from './DataStream.js';
import { InvalidPipelineError } from './errors.js';
import type { Collector } from './functions.js';
import type { CoGroupFunction, TaggedUnion } from './joinFunctions.js';
import type { KeySelector, KeyType, WidenedKey } from './types.js';
import type { Evictor } from './windowing/Evictor.js';
import type { ProcessWindowFunction } from './windowing/functions.js';
import type { Trigger } from './windowing/Trigger.js';
import type { Window } from './windowing/Window.js';
import type { WindowAssigner } from './windowing/WindowAssigner.js';

/**
 * Two streams to co-group over windows (`a.coGroup(b)`): pick the key of each side with
 * `where` and `equalTo`, then the windows with `window`.
 * @example
 * ```ts
 * a.coGroup(b).where((x) => x.k).equalTo((y) => y.k).window(TumblingEventTimeWindows.of(1_000))
 *   .apply<string>((xs, ys, out) => out.collect(`${xs.length}:${ys.length}`));
 * ```
 * @public
 */
export class CoGroupedStreams<TLeft, TRight> {
  /** @internal */
  constructor(
    /** The left input. */
    readonly left: DataStream<TLeft>,
    /** The right input. */
    readonly right: DataStream<TRight>,
  ) {}

  /** The key of the left input. */
  where<K extends KeyType>(keySelector: KeySelector<TLeft, K>): CoGroupWhere<TLeft, TRight, WidenedKey<K>> {
    checkSelector(keySelector, 'where');
    return new CoGroupWhere<TLeft, TRight, WidenedKey<K>>(this.left, this.right, keySelector as unknown as KeySelector<TLeft, WidenedKey<K>>);
  }
}

/**
 * A co-group with its left key set; set the right key with `equalTo`.
 * @public
 */
export class CoGroupWhere<TLeft, TRight, K extends KeyType> {
  /** @internal */
  constructor(
    private readonly left: DataStream<TLeft>,
    private readonly right: DataStream<TRight>,
    private readonly leftKey: KeySelector<TLeft, K>,
  ) {}

  /** The key of the right input: of the same type as the left key. */
  equalTo(keySelector: KeySelector<TRight, K>): CoGroupEqualTo<TLeft, TRight, K> {
    checkSelector(keySelector, 'equalTo');
    return new CoGroupEqualTo<TLeft, TRight, K>(this.left, this.right, this.leftKey, keySelector);
  }
}

/**
 * A co-group with both keys set; choose the windows with `window`.
 * @public
 */
export class CoGroupEqualTo<TLeft, TRight, K extends KeyType> {
  /** @internal */
  constructor(
    private readonly left: DataStream<TLeft>,
    private readonly right: DataStream<TRight>,
    private readonly leftKey: KeySelector<TLeft, K>,
    private readonly rightKey: KeySelector<TRight, K>,
  ) {}

  /**
   * Groups the elements of both inputs into windows, per key.
   * @param assigner - any window assigner (event- or processing-time); it sees the elements as
   *   {@link TaggedUnion}s
   */
  window<W extends Window>(assigner: WindowAssigner<TaggedUnion<TLeft, TRight>, W>): WindowedCoGroup<TLeft, TRight, K, W> {
    return new WindowedCoGroup<TLeft, TRight, K, W>(this.left, this.right, this.leftKey, this.rightKey, assigner);
  }
}

/**
 * A windowed co-group: optionally set a trigger, an evictor or allowed lateness, then `apply`.
 *
 * Runs as Flink does: both inputs are tagged into one stream of {@link TaggedUnion}s, keyed by
 * the side's key selector and cut into windows by the ordinary window operator; when a window
 * fires, its elements are split by side and handed to the function. Window semantics are the
 * window operator's: a window fires when the watermark reaches `end − 1`, outputs carry the
 * timestamp `end − 1`, late elements (beyond the allowed lateness) are dropped, and a late
 * element within the allowed lateness fires the window again with all its elements.
 * @public
 */
export class WindowedCoGroup<TLeft, TRight, K extends KeyType, W extends Window> {
  private triggerValue: Trigger<TaggedUnion<TLeft, TRight>, W> | undefined;
  private evictorValue: Evictor<TaggedUnion<TLeft, TRight>, W> | undefined;
  private lateness = 0;

  /** @internal */
  constructor(
    private readonly left: DataStream<TLeft>,
    private readonly right: DataStream<TRight>,
    private readonly leftKey: KeySelector<TLeft, K>,
    private readonly rightKey: KeySelector<TRight, K>,
    /** The window assigner. */
    readonly assigner: WindowAssigner<TaggedUnion<TLeft, TRight>, W>,
  ) {}

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<TaggedUnion<TLeft, TRight>, W>): this {
    this.triggerValue = trigger;
    return this;
  }

  /** Sets an evictor. */
  evictor(evictor: Evictor<TaggedUnion<TLeft, TRight>, W>): this {
    this.evictorValue = evictor;
    return this;
  }

  /**
   * How long after a window's end (in event time) elements are still accepted; each such
   * element fires the window again, with all its elements. Default 0.
   */
  allowedLateness(ms: number): this {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`allowed lateness must be a finite number >= 0, got ${ms}`);
    this.lateness = ms;
    return this;
  }

  /**
   * Calls `fn` once per key and fired window with the window's elements of each side (one of
   * the lists may be empty).
   * @returns the stream of `fn`'s outputs
   */
  apply<R>(fn: CoGroupFunction<TLeft, TRight, R>): DataStream<R> {
    if (typeof fn !== 'function') throw new TypeError('apply expects a function (left, right, out) => void');
    return this.build<R>('WindowCoGroup', (lefts, rights, out) => fn(lefts, rights, out));
  }

  /**
   * Builds the tagged-union pipeline and evaluates each fired window with `evaluate`.
   * @internal
   */
  build<R>(
    name: string,
    evaluate: (lefts: TLeft[], rights: TRight[], out: Collector<R>) => void,
  ): DataStream<R> {
    const { left, right, leftKey, rightKey, assigner } = this;
    if (assigner.isEventTime()) {
      for (const [side, s] of [['left', left], ['right', right]] as const) {
        if (!s.transformation.hasTimestamps) {
          throw new InvalidPipelineError(
            `${name} over ${assigner} needs event-time timestamps on both inputs, but the ${side} input has none: ` +
              'call assignTimestampsAndWatermarks(...) on it, or use a processing-time assigner',
          );
        }
      }
    }
    const tagged = left
      .map<TaggedUnion<TLeft, TRight>>((value) => ({ side: 'left', value }))
      .name(`${name}: tag left`)
      .union(right.map<TaggedUnion<TLeft, TRight>>((value) => ({ side: 'right', value })).name(`${name}: tag right`));
    const unionKey = (u: TaggedUnion<TLeft, TRight>): K => (u.side === 'left' ? leftKey(u.value) : rightKey(u.value));
    const windowed = tagged.keyBy(unionKey).window(assigner);
    if (this.triggerValue !== undefined) windowed.trigger(this.triggerValue);
    if (this.evictorValue !== undefined) windowed.evictor(this.evictorValue);
    if (this.lateness > 0) windowed.allowedLateness(this.lateness);
    const pwf: ProcessWindowFunction<TaggedUnion<TLeft, TRight>, R, WidenedKey<K>, W> = {
      process(_key, _ctx, elements, out) {
        const lefts: TLeft[] = [];
        const rights: TRight[] = [];
        for (let i = 0; i < elements.length; i++) {
          const e = elements[i] as TaggedUnion<TLeft, TRight>;
          if (e.side === 'left') lefts.push(e.value);
          else rights.push(e.value);
        }
        evaluate(lefts, rights, out);
      },
    };
    return windowed.process<R>(pwf).name(name);
  }
}

function checkSelector(fn: unknown, what: string): void {
  if (typeof fn !== 'function') throw new TypeError(`${what} expects a key selector function`);
}
