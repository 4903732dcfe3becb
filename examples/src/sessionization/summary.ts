import type { SessionizationResult } from './job.js';

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const minutes = (ms: number): string => `${(ms / 60_000).toFixed(1)} min`;

/**
 * The part of a dead letter's reason that names the kind of problem (`invalid JSON`, `missing field 'user_id'`...).
 * @public
 */
export function reasonKind(reason: string): string {
  const colon = reason.indexOf(':');
  return colon < 0 ? reason : reason.slice(0, colon);
}

/**
 * A short human-readable summary of a sessionization run: sessions, average duration and watch
 * time, top devices, late events, dead letters by kind, throughput.
 * @param r - what `runSessionization` collected
 * @returns the lines to print
 * @public
 */
export function summarizeSessionization(r: SessionizationResult): string[] {
  const s = r.sessions;
  const count = Math.max(1, s.length);
  const sum = (f: (x: (typeof s)[number]) => number): number => s.reduce((acc, x) => acc + f(x), 0);
  const devices = new Map<string, number>();
  for (const x of s) for (const d of x.devices) devices.set(d, (devices.get(d) ?? 0) + 1);
  const top = [...devices].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
  const reasons = new Map<string, number>();
  for (const d of r.deadLetters) {
    const k = reasonKind(d.reason);
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  const o = r.options;
  const seconds = r.durationMs / 1000;
  return [
    `  gap ${minutes(o.gapMs)}, ${o.mode}, watermark bound ${o.outOfOrdernessMs / 1000} s, allowed lateness ${minutes(o.allowedLatenessMs)}`,
    `  sessions: ${n(s.length)} (${n(r.updates)} window firings: ${n(r.updates - s.length)} updates by late events)`,
    `  avg duration ${minutes(sum((x) => x.duration_ms) / count)}, avg watch time ${minutes(sum((x) => x.watch_time_ms) / count)}, ` +
      `avg ${(sum((x) => x.events) / count).toFixed(0)} events and ${(sum((x) => x.plays) / count).toFixed(1)} plays per session`,
    `  multi-device sessions: ${n(s.filter((x) => x.devices.length > 1).length)}`,
    `  top devices (sessions): ${top.map(([d, k]) => `${d} ${n(k)}`).join(', ')}`,
    `  late events (beyond the allowed lateness, side output): ${n(r.lateEvents.length)}`,
    `  dead letters: ${n(r.deadLetters.length)}${
      reasons.size === 0
        ? ''
        : ` (${[...reasons]
            .sort((a, b) => b[1] - a[1])
            .map(([k, c]) => `${k} ${c}`)
            .join(', ')})`
    }`,
    `  throughput: ${n(r.lines / seconds)} events/s end to end (${n(r.lines)} lines read, parsed and sessionized in ${seconds.toFixed(2)} s)`,
  ];
}
