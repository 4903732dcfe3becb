/**
 * Deterministic generator of the platform's client events (see DOMAIN.md): playback,
 * navigation and engagement events for a population of users and contents, with event times
 * that advance steadily and arrive slightly out of order.
 */

/** A client telemetry event. */
export interface ClientEvent {
  readonly event_id: string;
  readonly event_type: string;
  readonly timestamp_ms: number;
  readonly user_id: string;
  readonly session_id: string;
  readonly content_id: string;
  readonly device: { readonly type: string; readonly os: string; readonly app_version: string };
  readonly context: {
    readonly page: string;
    readonly row: string;
    readonly position: number;
    readonly algorithm: string;
    readonly experiment_id: string;
    readonly variant: string;
  };
  /** Catalogue data of the content (optional: older SDKs do not send it). */
  readonly content_metadata?: {
    readonly genre: readonly string[];
    readonly duration_sec: number;
    readonly release_year: number;
  };
}

const EVENT_TYPES = [
  'playback.started',
  'playback.heartbeat',
  'playback.heartbeat',
  'playback.heartbeat',
  'playback.paused',
  'playback.completed',
  'nav.impression',
  'nav.impression',
  'nav.click',
  'nav.search',
  'engage.like',
] as const;
const DEVICES = [
  { type: 'smart_tv', os: 'tvOS', app_version: '5.12.0' },
  { type: 'mobile', os: 'iOS', app_version: '5.12.1' },
  { type: 'mobile', os: 'Android', app_version: '5.11.0' },
  { type: 'web', os: 'Chrome', app_version: '5.12.0' },
] as const;

/** A small, fast, seedable PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link generateEvent}. */
export interface GeneratorOptions {
  readonly users: number;
  readonly contents: number;
  /** Event time of event 0. */
  readonly startMs: number;
  /** Event time advance per event, in ms. */
  readonly stepMs: number;
  /** Maximal out-of-orderness of event times, in ms. */
  readonly jitterMs: number;
}

/** The default generator options: 10k users, 2k contents, 10 events per second of event time. */
export const DEFAULT_GENERATOR: GeneratorOptions = {
  users: 10_000,
  contents: 2_000,
  startMs: Date.UTC(2026, 3, 6, 16, 0, 0),
  stepMs: 100,
  jitterMs: 3_000,
};

/** Event `i` of the deterministic event stream. */
export function generateEvent(i: number, o: GeneratorOptions = DEFAULT_GENERATOR): ClientEvent {
  const r = rng(i * 2654435761);
  const user = Math.floor(r() * o.users);
  // Zipf-like popularity: a few contents get most plays.
  const content = Math.floor(o.contents * r() ** 3);
  const type = EVENT_TYPES[Math.floor(r() * EVENT_TYPES.length)] as string;
  const device = DEVICES[user % DEVICES.length] as ClientEvent['device'];
  return {
    event_id: `e${i}`,
    event_type: type,
    timestamp_ms: o.startMs + i * o.stepMs - Math.floor(r() * o.jitterMs),
    user_id: `u_${user}`,
    session_id: `s_${user}_${Math.floor(i / 50_000)}`,
    content_id: `c_${content}`,
    device,
    context: {
      page: 'home_feed',
      row: 'continue_watching',
      position: Math.floor(r() * 20),
      algorithm: 'collab_filter_v2',
      experiment_id: 'exp_2026_q2_reco_v3',
      variant: user % 2 === 0 ? 'control' : 'treatment_b',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Realistic sessions: bursts of activity per user, heartbeats, late uploads, malformed lines.

/**
 * Every `event_type` the platform's SDKs send (DOMAIN.md).
 * @public
 */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'playback.started',
  'playback.paused',
  'playback.seeked',
  'playback.buffered',
  'playback.heartbeat',
  'playback.completed',
  'nav.impression',
  'nav.click',
  'nav.scroll',
  'nav.search',
  'engage.like',
  'engage.save',
  'engage.share',
  'engage.add_to_list',
]);

/**
 * What is wrong with a malformed line the generator injected.
 * @public
 */
export type LineDefect =
  | 'truncated'
  | 'not-json'
  | 'empty'
  | 'not-object'
  | 'missing-user'
  | 'bad-timestamp'
  | 'unknown-type';

const DEFECTS: readonly LineDefect[] = [
  'truncated',
  'not-json',
  'empty',
  'not-object',
  'missing-user',
  'bad-timestamp',
  'unknown-type',
];

/**
 * One line of generated input and what the generator put into it.
 * @public
 */
export interface GeneratedLine {
  /** The JSONL line, without its newline. */
  readonly line: string;
  /** The event serialized in `line`; `undefined` for a malformed line. */
  readonly event: ClientEvent | undefined;
  /** What is wrong with a malformed line; `undefined` for a valid one. */
  readonly defect: LineDefect | undefined;
}

/**
 * Options of {@link SessionEventGenerator}.
 * @public
 */
export interface SessionGeneratorOptions {
  /** Number of lines to produce (valid and malformed together). */
  readonly lines: number;
  /** Number of users. Fewer users → more event time per line (about 30 lines/s per 1,000 users). */
  readonly users: number;
  /** Number of contents (popularity is Zipf-like). */
  readonly contents: number;
  /** Event time at which the simulation starts. */
  readonly startMs: number;
  /** Seed: the same options give the same lines. */
  readonly seed: number;
  /** Interval of `playback.heartbeat` events during playback (±300 ms). */
  readonly heartbeatIntervalMs: number;
  /** Minimal inactivity between two online bursts of a user; keep it above the session gap. */
  readonly minGapMs: number;
  /** Mean of the additional, exponentially distributed inactivity between bursts. */
  readonly meanExtraGapMs: number;
  /**
   * Online events arrive up to this many ms after their event time, so the stream is out of
   * order by at most this much (a watermark bound ≥ this makes none of them late).
   */
  readonly maxDisorderMs: number;
  /** Adds the data-quality problems below (late uploads, retries, malformed lines). */
  readonly dirty: boolean;
  /**
   * dirty: probability that a burst is followed, within the gap, by an offline burst on a phone
   * whose events are uploaded in one batch minutes to hours later (half within 20 min, 30% within
   * 20–60 min, the rest 1–3 h later). Such a burst lies within
   * 30 minutes of the bursts around it, so, arriving within the allowed lateness, it merges
   * them into one cross-device session.
   */
  readonly offlineBurstRate: number;
  /** dirty: probability that an online event is retried and arrives 30 s to 20 min late. */
  readonly retryRate: number;
  /** dirty: probability that a malformed line follows a valid one. */
  readonly malformedRate: number;
}

/**
 * Defaults: clean data, 2,000 users, 2,000 contents, 10 s heartbeats, gaps of 31 min and more.
 * @public
 */
export const DEFAULT_SESSION_GENERATOR: SessionGeneratorOptions = {
  lines: 100_000,
  users: 2_000,
  contents: 2_000,
  startMs: Date.UTC(2026, 3, 6, 16, 0, 0),
  seed: 42,
  heartbeatIntervalMs: 10_000,
  minGapMs: 31 * 60_000,
  meanExtraGapMs: 3 * 3_600_000,
  maxDisorderMs: 3_000,
  dirty: false,
  offlineBurstRate: 0.05,
  retryRate: 0.001,
  malformedRate: 0.002,
};

const SESSION_DEVICES: ReadonlyArray<ClientEvent['device']> = [
  { type: 'smart_tv', os: 'tvOS', app_version: '5.12.0' },
  { type: 'mobile', os: 'iOS', app_version: '5.12.1' },
  { type: 'mobile', os: 'Android', app_version: '5.11.0' },
  { type: 'web', os: 'Chrome', app_version: '5.12.0' },
  { type: 'console', os: 'PlayStation', app_version: '5.10.2' },
];
const GENRES = ['drama', 'comedy', 'sci-fi', 'thriller', 'documentary', 'animation', 'crime', 'romance'] as const;
const ENGAGEMENTS = ['engage.like', 'engage.save', 'engage.share', 'engage.add_to_list'] as const;

interface SimUser {
  readonly index: number;
  readonly id: string;
  readonly devices: ReadonlyArray<ClientEvent['device']>;
  readonly variant: string;
  nextBurst: number;
  bursts: number;
}

/** The events of one burst, sorted by arrival, and the next one to deliver. */
interface InFlight {
  readonly events: readonly ClientEvent[];
  readonly arrivals: readonly number[];
  next: number;
  /** Arrival of `events[next]`. */
  arrival: number;
  /** Tie-breaker, so equal arrivals come out in a fixed order. */
  readonly seq: number;
}

/** A binary min-heap. */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(x: T): void {
    const a = this.items;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const up = a[p] as T;
      if (!this.less(x, up)) break;
      a[i] = up;
      i = p;
    }
    a[i] = x;
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop() as T;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(a[r] as T, a[l] as T) ? r : l;
        if (!this.less(a[c] as T, last)) break;
        a[i] = a[c] as T;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * A deterministic simulation of users' sessions, producing the JSONL lines a sessionization job
 * reads, in arrival order.
 *
 * Each user is active in bursts (5 min to 2 h: browsing, then playbacks with a heartbeat every
 * `heartbeatIntervalMs`, pauses, completions, engagement; some bursts switch device half-way)
 * separated by at least `minGapMs` of inactivity. Online events arrive out of order by at most
 * `maxDisorderMs`. In `dirty` mode, some events are retried and arrive minutes late, some offline
 * bursts are uploaded in one batch minutes to hours after they happened (late data that merges
 * sessions, or lies beyond any allowed lateness), and malformed lines follow some valid ones.
 *
 * @example
 * ```ts
 * for (const { line, defect } of new SessionEventGenerator({ lines: 1_000, dirty: true })) {
 *   console.log(defect ?? 'ok', line);
 * }
 * ```
 * @public
 */
export class SessionEventGenerator implements IterableIterator<GeneratedLine> {
  /** The effective options. */
  readonly options: SessionGeneratorOptions;
  private readonly r: () => number;
  private readonly contentDuration: number[] = [];
  private readonly contentMeta: Array<NonNullable<ClientEvent['content_metadata']>> = [];
  private readonly bursts = new MinHeap<SimUser>((a, b) => a.nextBurst < b.nextBurst || (a.nextBurst === b.nextBurst && a.index < b.index));
  private readonly inFlight = new MinHeap<InFlight>((a, b) => a.arrival < b.arrival || (a.arrival === b.arrival && a.seq < b.seq));
  private produced = 0;
  private seq = 0;
  private pendingMalformed: GeneratedLine | undefined;
  private readonly jsonCache = new Map<object, string>();

  /** @param options - overrides of {@link DEFAULT_SESSION_GENERATOR} */
  constructor(options: Partial<SessionGeneratorOptions> = {}) {
    const o = { ...DEFAULT_SESSION_GENERATOR, ...options };
    if (!(o.users >= 1) || !(o.contents >= 1) || !(o.lines >= 0)) throw new RangeError('users and contents must be >= 1, lines >= 0');
    this.options = o;
    this.r = rng(o.seed);
    for (let c = 0; c < o.contents; c++) {
      const cr = rng(o.seed * 7919 + c);
      const movie = c % 3 === 0;
      const duration = movie ? 5_400 + Math.floor(cr() * 3_600) : 1_200 + Math.floor(cr() * 2_400);
      this.contentDuration.push(duration * 1000);
      this.contentMeta.push({
        genre: [GENRES[c % GENRES.length] as string, GENRES[(c * 5 + 3) % GENRES.length] as string],
        duration_sec: duration,
        release_year: 1990 + Math.floor(cr() * 36),
      });
    }
    const r = this.r;
    for (let u = 0; u < o.users; u++) {
      const n = 1 + Math.floor(r() * 3);
      const first = Math.floor(r() * SESSION_DEVICES.length);
      const devices: Array<ClientEvent['device']> = [];
      for (let k = 0; k < n; k++) devices.push(SESSION_DEVICES[(first + k * 2) % SESSION_DEVICES.length] as ClientEvent['device']);
      this.bursts.push({
        index: u,
        id: `u_${u}`,
        devices,
        variant: u % 2 === 0 ? 'control' : 'treatment_b',
        // Spread the first bursts over one average cycle, so activity is steady from the start.
        nextBurst: o.startMs + Math.floor(r() * (o.minGapMs + o.meanExtraGapMs)),
        bursts: 0,
      });
    }
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** The next line in arrival order. */
  next(): IteratorResult<GeneratedLine> {
    const line = this.nextLine();
    return line === undefined ? { done: true, value: undefined } : { done: false, value: line };
  }

  /** The lines only (what a file or a topic would hold). */
  *lines(): IterableIterator<string> {
    for (let l = this.nextLine(); l !== undefined; l = this.nextLine()) yield l.line;
  }

  /** The next line, or `undefined` after `options.lines` lines. */
  nextLine(): GeneratedLine | undefined {
    if (this.produced >= this.options.lines) return undefined;
    this.produced++;
    const pending = this.pendingMalformed;
    if (pending !== undefined) {
      this.pendingMalformed = undefined;
      return pending;
    }
    // Events of bursts not yet started have times, hence arrivals, >= the next burst's start:
    // everything in flight that arrives before it can be released in arrival order.
    for (;;) {
      const head = this.inFlight.peek();
      const nextBurst = this.bursts.peek() as SimUser;
      if (head !== undefined && head.arrival < nextBurst.nextBurst) break;
      this.startBurst();
    }
    const burst = this.inFlight.pop() as InFlight;
    const event = burst.events[burst.next++] as ClientEvent;
    if (burst.next < burst.events.length) {
      burst.arrival = burst.arrivals[burst.next] as number;
      this.inFlight.push(burst);
    }
    const line = this.serialize(event);
    const o = this.options;
    if (o.dirty && this.r() < o.malformedRate) this.pendingMalformed = this.malformed(event, line);
    return { line, event, defect: undefined };
  }

  /**
   * `JSON.stringify(event)`, several times faster: the generator's strings need no escaping and
   * its shared sub-objects (device, content metadata) are serialized once.
   */
  private serialize(e: ClientEvent): string {
    const c = e.context;
    const meta = e.content_metadata === undefined ? '' : `,"content_metadata":${this.json(e.content_metadata)}`;
    return (
      `{"event_id":"${e.event_id}","event_type":"${e.event_type}","timestamp_ms":${e.timestamp_ms},"user_id":"${e.user_id}",` +
      `"session_id":"${e.session_id}","content_id":"${e.content_id}","device":${this.json(e.device)},` +
      `"context":{"page":"${c.page}","row":"${c.row}","position":${c.position},"algorithm":"${c.algorithm}",` +
      `"experiment_id":"${c.experiment_id}","variant":"${c.variant}"}${meta}}`
    );
  }

  private json(shared: object): string {
    let s = this.jsonCache.get(shared);
    if (s === undefined) {
      s = JSON.stringify(shared);
      this.jsonCache.set(shared, s);
    }
    return s;
  }

  private malformed(event: ClientEvent, line: string): GeneratedLine {
    const r = this.r;
    const defect = DEFECTS[Math.floor(r() * DEFECTS.length)] as LineDefect;
    let text: string;
    switch (defect) {
      case 'truncated':
        // Any proper prefix of a JSON object's text is invalid JSON.
        text = line.slice(0, 1 + Math.floor(r() * (line.length - 2)));
        break;
      case 'not-json':
        text = '<html><body><h1>502 Bad Gateway</h1></body></html>';
        break;
      case 'empty':
        text = '';
        break;
      case 'not-object':
        text = `[${line}]`;
        break;
      case 'missing-user': {
        const { user_id: _dropped, ...rest } = event;
        text = JSON.stringify(rest);
        break;
      }
      case 'bad-timestamp':
        text = JSON.stringify({ ...event, timestamp_ms: new Date(event.timestamp_ms).toISOString() });
        break;
      case 'unknown-type':
        text = JSON.stringify({ ...event, event_type: 'playback.strated' });
        break;
    }
    return { line: text, event: undefined, defect };
  }

  private startBurst(): void {
    const o = this.options;
    const r = this.r;
    const u = this.bursts.pop() as SimUser;
    const device = u.devices[Math.floor(r() * u.devices.length)] as ClientEvent['device'];
    const end = this.burst(u, u.nextBurst, device, false, 2 * 3_600_000);
    let next = end + o.minGapMs + Math.floor(-Math.log(1 - r()) * o.meanExtraGapMs);
    if (o.dirty && r() < o.offlineBurstRate) {
      // An offline burst within the gap, close enough to both neighbours to bridge them.
      const phone = u.devices.find((d) => d.type === 'mobile') ?? (SESSION_DEVICES[2] as ClientEvent['device']);
      const offEnd = this.burst(u, end + (3 + Math.floor(r() * 17)) * 60_000, phone, true, (5 + r() * 20) * 60_000);
      next = Math.max(offEnd + (3 + Math.floor(r() * 17)) * 60_000, end + o.minGapMs);
    }
    u.nextBurst = next;
    this.bursts.push(u);
  }

  /** Simulates one burst from `start`; puts its events in flight; returns its last event time. */
  private burst(u: SimUser, start: number, firstDevice: ClientEvent['device'], offline: boolean, maxLengthMs: number): number {
    const o = this.options;
    const r = this.r;
    const hb = o.heartbeatIntervalMs;
    const session = `s_${u.index}_${u.bursts++}`;
    const planned = Math.min(maxLengthMs, (5 + 115 * r() ** 2) * 60_000);
    let device = firstDevice;
    let switchAt =
      !offline && u.devices.length > 1 && r() < 0.15 ? start + Math.floor(planned * (0.3 + 0.4 * r())) : Number.POSITIVE_INFINITY;
    const events: ClientEvent[] = [];
    const emit = (type: string, content: number, t: number, page: string): void => {
      events.push(this.event(u, device, session, type, content, t, page));
    };
    let t = start;
    let last = start;
    while (t < start + planned) {
      if (t >= switchAt) {
        device = u.devices.find((d) => d !== device) ?? device;
        switchAt = Number.POSITIVE_INFINITY;
      }
      const content = Math.floor(o.contents * r() ** 3);
      const browsing = 1 + Math.floor(r() * 4);
      for (let k = 0; k < browsing; k++) {
        const x = r();
        const type = x < 0.15 ? 'nav.search' : x < 0.3 ? 'nav.scroll' : 'nav.impression';
        emit(type, x < 0.3 ? content : Math.floor(o.contents * r()), t, type === 'nav.search' ? 'search' : 'home_feed');
        last = t;
        t += 2_000 + Math.floor(r() * 13_000);
      }
      if (r() < 0.85) {
        emit('nav.click', content, t, 'home_feed');
        t += 1_000 + Math.floor(r() * 4_000);
        emit('playback.started', content, t, 'player');
        const duration = this.contentDuration[content] as number;
        const watch = Math.min(duration, 60_000 + Math.floor(r() ** 1.5 * 50 * 60_000));
        const beats = Math.floor(watch / hb);
        for (let h = 0; h < beats; h++) {
          t += hb - 300 + Math.floor(r() * 600);
          emit('playback.heartbeat', content, t, 'player');
          const x = r();
          if (x < 0.01) emit(x < 0.005 ? 'playback.buffered' : 'playback.seeked', content, t + 1 + Math.floor(r() * 4_000), 'player');
        }
        t += 5_000 + Math.floor(r() * hb);
        emit(watch >= duration ? 'playback.completed' : 'playback.paused', content, t, 'player');
        last = t;
        if (r() < 0.2) {
          t += 2_000 + Math.floor(r() * 8_000);
          emit(ENGAGEMENTS[Math.floor(r() * ENGAGEMENTS.length)] as string, content, t, 'player');
          last = t;
        }
      }
      t += 5_000 + Math.floor(r() * 85_000);
    }
    const arrivals: number[] = [];
    if (offline) {
      // Buffered on the phone, uploaded in one batch: all late, in the order they happened.
      const x = r();
      const delay =
        x < 0.5 ? Math.floor(r() * 20 * 60_000) : x < 0.8 ? (20 + Math.floor(r() * 40)) * 60_000 : (60 + Math.floor(r() * 120)) * 60_000;
      for (let i = 0; i < events.length; i++) arrivals.push(last + delay + i / 1_000);
    } else {
      for (const event of events) {
        const late = o.dirty && r() < o.retryRate;
        const delay = late ? 30_000 + Math.floor(r() * 20 * 60_000) : Math.floor(r() * (o.maxDisorderMs + 1));
        arrivals.push(event.timestamp_ms + delay);
      }
    }
    const order = events.map((_, i) => i).sort((a, b) => (arrivals[a] as number) - (arrivals[b] as number) || a - b);
    const sortedEvents = order.map((i) => events[i] as ClientEvent);
    const sortedArrivals = order.map((i) => arrivals[i] as number);
    this.inFlight.push({ events: sortedEvents, arrivals: sortedArrivals, next: 0, arrival: sortedArrivals[0] as number, seq: this.seq++ });
    return last;
  }

  private event(
    u: SimUser,
    device: ClientEvent['device'],
    session: string,
    type: string,
    content: number,
    t: number,
    page: string,
  ): ClientEvent {
    return {
      event_id: `e_${this.options.seed}_${this.seq++}`,
      event_type: type,
      timestamp_ms: t,
      user_id: u.id,
      session_id: session,
      content_id: `c_${content}`,
      device,
      context: {
        page,
        row: page === 'home_feed' ? 'continue_watching' : page,
        position: content % 20,
        algorithm: 'collab_filter_v2',
        experiment_id: 'exp_2026_q2_reco_v3',
        variant: u.variant,
      },
      content_metadata: this.contentMeta[content] as NonNullable<ClientEvent['content_metadata']>,
    };
  }
}
