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
