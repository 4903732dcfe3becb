/**
 * Formatting for `weir`: progress lines, summaries, sizes, times.
 */
import type { JobProgress, JobRunResult } from '../api/Job.js';
import type { CompletedCheckpoint } from '../checkpoint/CheckpointCoordinator.js';

/**
 * `1234567` → `1,234,567`.
 * @internal
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * A rate with a unit prefix: `812`, `81.2k`, `1.23M`.
 * @internal
 */
export function formatCompact(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return String(Math.round(n));
}

/**
 * Bytes in binary units: `512 B`, `12.3 KiB`, `4.50 MiB`.
 * @internal
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/**
 * A duration: `850ms`, `12.3s`, `4m05s`, `2h03m`.
 * @internal
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Epoch ms as ISO time, or `-` when absent.
 * @internal
 */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return '-';
  return new Date(ms).toISOString();
}

/**
 * A watermark: ISO time, `-` before the first one, `end` at the end of input.
 * @internal
 */
export function formatWatermark(wm: number): string {
  if (wm === Number.POSITIVE_INFINITY) return 'end';
  if (!Number.isFinite(wm)) return '-';
  return formatTime(wm);
}

/**
 * A checkpoint and how long ago it completed: `7 (3.2s ago)`, or `-`.
 * @internal
 */
export function formatCheckpoint(c: CompletedCheckpoint | undefined, now: number = Date.now()): string {
  if (c === undefined) return '-';
  return `${c.checkpointId} (${formatDuration(Math.max(0, now - (c.timestamp + c.durationMs)))} ago)`;
}

/**
 * One progress line:
 * `plays-per-minute running 4.0s | in 812,345 (203k/s) | out 1,234 (308/s) | wm 2026-03-01T10:04:00.000Z | chk 3 (1.2s ago)`.
 * @internal
 */
export function formatProgressLine(p: JobProgress, now: number = Date.now()): string {
  const parts = [
    `${p.jobName} ${p.status} ${formatDuration(p.uptimeMs)}`,
    `in ${formatCount(p.recordsIn)} (${formatCompact(p.recordsInPerSecond)}/s)`,
    `out ${formatCount(p.recordsOut)} (${formatCompact(p.recordsOutPerSecond)}/s)`,
    `wm ${formatWatermark(p.watermark)}`,
    `chk ${formatCheckpoint(p.lastCheckpoint, now)}`,
  ];
  if (p.backpressuredTasks > 0) parts.push(`backpressured ${p.backpressuredTasks}`);
  return parts.join(' | ');
}

/**
 * The summary `weir run` prints when a job ends.
 * @internal
 */
export function formatSummary(r: JobRunResult): string {
  const m = r.metrics;
  const seconds = r.durationMs / 1000;
  const verb = r.status === 'finished' ? 'finished' : r.status === 'stopped' ? 'stopped with a checkpoint' : 'cancelled';
  const lines = [
    `weir: job '${r.jobName}' ${verb} in ${formatDuration(r.durationMs)}: ` +
      `${formatCount(m.sourceRecords)} records in (${formatCompact(seconds > 0 ? m.sourceRecords / seconds : 0)}/s), ` +
      `${formatCount(m.sinkRecords)} records out, watermark ${formatWatermark(m.watermark)}`,
  ];
  const c = r.lastCheckpoint;
  if (c !== undefined) lines.push(`weir: last checkpoint ${c.checkpointId} (${formatBytes(c.sizeBytes)}) at ${c.path}`);
  return lines.join('\n');
}
