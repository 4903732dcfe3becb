/**
 * `npm run demo`: runs the examples on generated events with embedded defaults (no external
 * service) and prints a short summary and the throughput of each.
 *
 * 1. Sessionization (the flagship): dirty JSONL lines (late uploads, retries, malformed lines)
 *    → parse with dead letters → event-time session windows with allowed lateness.
 * 2. Plays per content and minute, with keyed state and timers.
 *
 * Sizes: `DEMO_SESSION_LINES` (default 300,000) and `DEMO_EVENTS` (default 1,000,000).
 */
import { StreamEnvironment } from '@weir/core';
import { buildPlaysPerMinute, type MinutePlays } from './plays-per-minute/job.js';
import { runSessionization } from './sessionization/job.js';
import { summarizeSessionization } from './sessionization/summary.js';

const count = (name: string, dflt: number): number => {
  const v = Number((process.env[name] ?? String(dflt)).replace(/_/g, ''));
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

// ---- 1. sessionization ----
const lines = count('DEMO_SESSION_LINES', 300_000);
const sessions = await runSessionization(StreamEnvironment.create({ parallelism: 1 }), {
  // 1,000 users give about 3 hours of event time per 300,000 lines.
  generate: { lines, users: 1_000, dirty: true },
});
console.log(`Weir demo 1/2: sessionization of ${fmt(lines)} generated JSONL lines (late uploads, retries, malformed lines)`);
for (const line of summarizeSessionization(sessions)) console.log(line);

// ---- 2. plays per minute ----
const events = count('DEMO_EVENTS', 1_000_000);
const env = StreamEnvironment.create({ parallelism: 1 });
const started = performance.now();
const rows: MinutePlays[] = await buildPlaysPerMinute(env, events).executeAndCollect('plays-per-minute demo');
const seconds = (performance.now() - started) / 1000;

const byContent = new Map<string, number>();
for (const r of rows) byContent.set(r.content_id, (byContent.get(r.content_id) ?? 0) + r.plays);
const top = [...byContent].sort((a, b) => b[1] - a[1]).slice(0, 5);
const plays = rows.reduce((n, r) => n + r.plays, 0);
console.log(`\nWeir demo 2/2: plays per content per minute over ${fmt(events)} generated events`);
console.log(`  ${fmt(rows.length)} (content, minute) counts, ${fmt(plays)} plays`);
console.log(`  top contents by plays: ${top.map(([content, n]) => `${content} ${n}`).join(', ')}`);
console.log(`  throughput: ${fmt(events / seconds)} events/s (${seconds.toFixed(2)} s, parallelism 1)`);
