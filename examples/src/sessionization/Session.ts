/**
 * One user session: a run of activity that ends after `gapMs` of inactivity (DOMAIN.md), per
 * user across devices or per user and device type.
 * @public
 */
export interface Session {
  /** The session key: `user_id` (cross-device) or `user_id|device type` (per device). */
  readonly key: string;
  /** The user. */
  readonly user_id: string;
  /** Per-device mode: the device type; cross-device mode: `null` (see {@link Session.devices}). */
  readonly device: string | null;
  /** Event time of the first event (epoch ms). */
  readonly start: number;
  /** Event time of the last event (epoch ms). */
  readonly end: number;
  /** `end − start`. */
  readonly duration_ms: number;
  /** The session window's end, `end + gap`: when the session closed in event time. */
  readonly window_end: number;
  /** Number of events. */
  readonly events: number;
  /** Number of `playback.started` events. */
  readonly plays: number;
  /** Number of `playback.heartbeat` events. */
  readonly heartbeats: number;
  /**
   * Watch time: heartbeats × heartbeat interval. Each heartbeat stands for one interval of
   * playback (the SDK sends one every ~10 s while playing), so the sum is exact under merging and
   * independent of arrival order, and a pause (no heartbeats) adds nothing.
   */
  readonly watch_time_ms: number;
  /** Distinct contents played (`content_id` of playback events), sorted. */
  readonly contents: readonly string[];
  /** Distinct device types used, sorted. */
  readonly devices: readonly string[];
}
