/**
 * `npm run demo`: runs the flagship example on generated events with embedded defaults (no
 * external service) and prints a short summary and the throughput.
 */
import { StreamEnvironment } from '@weir/core';
import { buildPlaysPerMinute, type MinutePlays } from './plays-per-minute/job.js';

const events = Number(process.env.DEMO_EVENTS ?? 1_000_000);
const env = StreamEnvironment.create({ parallelism: 1 });
const started = performance.now();
const rows: MinutePlays[] = await buildPlaysPerMinute(env, events).executeAndCollect('plays-per-minute demo');
const seconds = (performance.now() - started) / 1000;

const byContent = new Map<string, number>();
for (const r of rows) byContent.set(r.content_id, (byContent.get(r.content_id) ?? 0) + r.plays);
const top = [...byContent].sort((a, b) => b[1] - a[1]).slice(0, 5);
const plays = rows.reduce((n, r) => n + r.plays, 0);
console.log(`Weir demo: plays per content per minute over ${events.toLocaleString('en-US')} generated events`);
console.log(`  ${rows.length.toLocaleString('en-US')} (content, minute) counts, ${plays.toLocaleString('en-US')} plays`);
console.log('  top contents by plays:');
for (const [content, n] of top) console.log(`    ${content.padEnd(8)} ${n}`);
console.log(`  throughput: ${Math.round(events / seconds).toLocaleString('en-US')} events/s (${seconds.toFixed(2)} s, parallelism 1)`);
