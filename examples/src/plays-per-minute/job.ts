import {
  type Collector,
  type DataStream,
  type KeyedProcessContext,
  type KeyedProcessFunction,
  type MapState,
  MapStateDescriptor,
  type OnTimerContext,
  OutputTag,
  type RuntimeContext,
  type StreamEnvironment,
  WatermarkStrategy,
} from '@weir/core';
import { type ClientEvent, generateEvent } from '../events.js';

/** Plays of one content in one minute of event time. */
export interface MinutePlays {
  readonly content_id: string;
  readonly minute: number;
  readonly plays: number;
}

/** Events that arrived after their minute was already reported. */
export const LATE_PLAYS = new OutputTag<ClientEvent>('late-plays');

/**
 * Counts `playback.started` events per content and event-time minute with keyed map state and
 * one event-time timer per minute: when the watermark passes the minute's end, the count is
 * emitted and its state cleared.
 */
export class PlaysPerMinute implements KeyedProcessFunction<string, ClientEvent, MinutePlays> {
  private counts!: MapState<number, number>;

  open(ctx: RuntimeContext): void {
    this.counts = ctx.getMapState(new MapStateDescriptor<number, number>('plays-by-minute'));
  }

  processElement(e: ClientEvent, ctx: KeyedProcessContext<string>, _out: Collector<MinutePlays>): void {
    const minute = e.timestamp_ms - (e.timestamp_ms % 60_000);
    const end = minute + 60_000 - 1;
    if (end <= ctx.timerService().currentWatermark()) {
      ctx.output(LATE_PLAYS, e);
      return;
    }
    this.counts.put(minute, (this.counts.get(minute) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(end);
  }

  onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<MinutePlays>): void {
    const minute = ts + 1 - 60_000;
    out.collect({ content_id: ctx.getCurrentKey(), minute, plays: this.counts.get(minute) ?? 0 });
    this.counts.remove(minute);
  }
}

/** Builds the job: generated events → plays per content and minute. */
export function buildPlaysPerMinute(env: StreamEnvironment, events: number): DataStream<MinutePlays> {
  return env
    .fromSequence(0, events - 1, 'generated events')
    .map((i) => generateEvent(i))
    .name('generate')
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<ClientEvent>(5_000).withTimestampAssigner((e) => e.timestamp_ms),
    )
    .filter((e) => e.event_type === 'playback.started')
    .name('plays only')
    .keyBy((e) => e.content_id)
    .process(new PlaysPerMinute())
    .name('plays per minute')
    .uid('plays-per-minute');
}
