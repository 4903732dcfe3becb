/**
 * A window: a finite (or, for {@link GlobalWindow}, unbounded) bucket of a keyed stream that a
 * window function evaluates. Every window has a string `id` that names it in state and timers.
 * @public
 */
export abstract class Window {
  /** Stable identifier of the window (its namespace in keyed state and timers). */
  abstract readonly id: string;
  /** The largest timestamp that still belongs to the window. */
  abstract maxTimestamp(): number;
}

/**
 * A time interval `[start, end)`: `start` inclusive, `end` exclusive. An event-time window fires
 * when the watermark reaches `end − 1` (its {@link TimeWindow.maxTimestamp}).
 * @public
 */
export class TimeWindow extends Window {
  // An ES private field: not enumerable, so equal windows compare equal whether or not the id
  // was computed.
  #cachedId: string | undefined;

  /**
   * @param start - first millisecond of the window
   * @param end - first millisecond after the window
   */
  constructor(
    readonly start: number,
    readonly end: number,
  ) {
    super();
  }

  /** `'start:end'`: the state namespace of this window. */
  get id(): string {
    let id = this.#cachedId;
    if (id === undefined) {
      id = `${this.start}:${this.end}`;
      this.#cachedId = id;
    }
    return id;
  }

  /** `end − 1`. */
  maxTimestamp(): number {
    return this.end - 1;
  }

  /** Whether the two windows overlap or touch (sessions merge such windows). */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window containing both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  /** Whether two windows are the same interval. */
  equals(other: Window): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }

  /** Parses a window id. */
  static fromId(id: string): TimeWindow {
    const i = id.indexOf(':');
    return new TimeWindow(Number(id.slice(0, i)), Number(id.slice(i + 1)));
  }

  /**
   * The start of the window of size `size` (with `offset`) that contains `timestamp`:
   * `timestamp − ((timestamp − offset) mod size)`, with a non-negative modulo.
   */
  static windowStart(timestamp: number, offset: number, size: number): number {
    const r = (timestamp - offset) % size;
    return timestamp - (r < 0 ? r + size : r);
  }

  /** `TimeWindow{start=…, end=…}`. */
  override toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }
}

/**
 * The single window of {@link GlobalWindows}: everything, forever. It fires only by a custom
 * trigger.
 * @public
 */
export class GlobalWindow extends Window {
  /** The instance. */
  static readonly INSTANCE: GlobalWindow = new GlobalWindow();
  /** `'global'`. */
  override readonly id = 'global';

  private constructor() {
    super();
  }

  /** +∞: the global window never ends by time. */
  maxTimestamp(): number {
    return Number.POSITIVE_INFINITY;
  }
}
