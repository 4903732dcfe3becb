/**
 * The plays-per-minute job as a job module, for `weir run`:
 *
 * ```sh
 * npx weir run examples/dist/plays-per-minute/index.js --events 1000000
 * npx weir run examples/dist/plays-per-minute/index.js --events 2000000 --rate 100000 \
 *   --output /tmp/ppm-out --checkpoint-dir /tmp/ppm-chk --checkpoint-interval 2s
 * npx weir run examples/dist/plays-per-minute/index.js ... --restore latest   # after a crash
 * ```
 *
 * Generated client events → `playback.started` only → plays per content and event-time minute
 * (keyed map state + event-time timers, {@link PlaysPerMinute}) → the output.
 */
import { FileSink } from '@weir/connectors';
import { defineJob, PrintSink, SequenceSource, WatermarkStrategy } from '@weir/core';
import { type ClientEvent, generateEvent } from '../events.js';
import { ThrottledSource } from '../sources/ThrottledSource.js';
import { type MinutePlays, PlaysPerMinute } from './job.js';

/**
 * The job: options `--events`, `--rate`, `--out-of-orderness`, `--output`; uids on the source,
 * the keyed counter and the sink, so checkpoints restore into the same operators.
 * @public
 */
export default defineJob({
  name: 'plays-per-minute',
  description: 'counts playback.started events per content and event-time minute over generated client events',
  options: {
    events: { description: 'Number of generated events', default: 1_000_000, integer: true, min: 1 },
    rate: { description: 'Events per second the source emits at most (0: as fast as it can)', default: 0, min: 0 },
    outOfOrderness: { description: 'Watermark bound in ms: how late an event may be and still count', default: 5_000, integer: true, min: 0 },
    output: {
      description:
        "Where the counts go: '' (counted only), '-' (stdout, JSON lines), or a directory of JSON-lines part files (FileSink: exactly once with checkpoints)",
      default: '',
    },
  },
  build(env, { events, rate, outOfOrderness, output }) {
    const counts = env
      .fromSource(new ThrottledSource(new SequenceSource(0, events - 1), rate), WatermarkStrategy.noWatermarks<number>(), 'generated events')
      .uid('generated-events')
      .map((i) => generateEvent(i))
      .name('generate')
      .assignTimestampsAndWatermarks(
        WatermarkStrategy.forBoundedOutOfOrderness<ClientEvent>(outOfOrderness).withTimestampAssigner((e) => e.timestamp_ms),
      )
      .name('event time')
      .filter((e) => e.event_type === 'playback.started')
      .name('plays only')
      .keyBy((e) => e.content_id)
      .process(new PlaysPerMinute())
      .name('plays per minute')
      .uid('plays-per-minute');
    if (output === '-') counts.sinkTo(new PrintSink<MinutePlays>(), 'stdout').uid('stdout');
    else if (output !== '') counts.sinkTo(new FileSink<MinutePlays>({ path: output, format: 'jsonl' }), 'JSONL files').uid('jsonl-files');
    else counts.sinkTo({ createWriter: () => ({ write() {} }) }, 'discard').uid('discard');
  },
});
