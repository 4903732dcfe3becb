import {
  type Collector,
  MapStateDescriptor,
  OutputTag,
  type ProcessWindowContext,
  type ProcessWindowFunction,
  type TimeWindow,
} from '@weir/core';
import type { SessionMode } from './job.js';
import type { Session } from './Session.js';
import type { SessionStats } from './SessionAggregate.js';

/**
 * Final sessions: one record per session, once it can no longer change.
 * @public
 */
export const FINAL_SESSIONS: OutputTag<Session> = new OutputTag<Session>('final-sessions');

/**
 * Turns a fired session window's aggregate into a {@link Session} (main output: every firing)
 * and emits each session's final version to {@link FINAL_SESSIONS}.
 *
 * With allowed lateness a session window fires when the watermark passes its end and again for
 * every late event admitted afterwards, and a late event may merge sessions that have already
 * fired into one (which fires later). Which firing is final is only known when the window
 * operator purges a window (at `end − 1 + allowedLateness`, calling `clear`): a window merged
 * into another is never purged itself. So each firing is kept in per-key state, a firing
 * removes those of the windows it absorbed, and `clear` emits the purged window's last firing.
 * @public
 */
export class SessionWindowFunction implements ProcessWindowFunction<SessionStats, Session, string, TimeWindow> {
  private readonly fired = new MapStateDescriptor<number, Session>('fired-sessions');

  /**
   * @param mode - how the key was built (to split it into user and device)
   * @param heartbeatIntervalMs - watch time per heartbeat
   */
  constructor(
    private readonly mode: SessionMode,
    private readonly heartbeatIntervalMs: number,
  ) {}

  /** Emits the firing and remembers it as the window's latest. */
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, results: readonly SessionStats[], out: Collector<Session>): void {
    const s = results[0];
    if (s === undefined) return;
    const window = ctx.window();
    const bar = this.mode === 'per-device' ? key.lastIndexOf('|') : -1;
    const session: Session = {
      key,
      user_id: bar < 0 ? key : key.slice(0, bar),
      device: bar < 0 ? null : key.slice(bar + 1),
      start: s.first,
      end: s.last,
      duration_ms: s.last - s.first,
      window_end: window.end,
      events: s.events,
      plays: s.plays,
      heartbeats: s.heartbeats,
      watch_time_ms: s.heartbeats * this.heartbeatIntervalMs,
      contents: s.contents,
      devices: s.devices,
    };
    out.collect(session);
    const fired = ctx.globalState().getMapState(this.fired);
    for (const [end, old] of fired.entries()) {
      // A session window only grows: an earlier firing inside this window was merged into it.
      if (end !== window.end && old.start >= window.start && end <= window.end) fired.remove(end);
    }
    fired.put(window.end, session);
  }

  /** The window is purged: its last firing is final. */
  clear(ctx: ProcessWindowContext<TimeWindow>): void {
    const fired = ctx.globalState().getMapState(this.fired);
    const end = ctx.window().end;
    const s = fired.get(end);
    if (s === undefined) return;
    fired.remove(end);
    ctx.output(FINAL_SESSIONS, s);
  }
}
