/**
 * `@weir/operators`: window assigners, triggers and evictors that plug into the core window
 * operator, aggregate functions, joins, dedup, broadcast state and async I/O.
 * @packageDocumentation
 */
export { TumblingEventTimeWindows } from './windowing/assigners/TumblingEventTimeWindows.js';
export { SlidingEventTimeWindows } from './windowing/assigners/SlidingEventTimeWindows.js';
export { EventTimeSessionWindows, type SessionGapExtractor } from './windowing/assigners/EventTimeSessionWindows.js';
export { GlobalWindows } from './windowing/assigners/GlobalWindows.js';
export {
  ProcessingTimeSessionWindows,
  SlidingProcessingTimeWindows,
  TumblingProcessingTimeWindows,
} from './windowing/assigners/ProcessingTimeWindows.js';
export { EventTimeTrigger } from './windowing/triggers/EventTimeTrigger.js';
export { ProcessingTimeTrigger } from './windowing/triggers/ProcessingTimeTrigger.js';
export { CountTrigger } from './windowing/triggers/CountTrigger.js';
export { ContinuousEventTimeTrigger } from './windowing/triggers/ContinuousEventTimeTrigger.js';
export { PurgingTrigger } from './windowing/triggers/PurgingTrigger.js';
export { CountEvictor } from './windowing/evictors/CountEvictor.js';
export { TimeEvictor } from './windowing/evictors/TimeEvictor.js';
export { TemporalJoin, temporalJoin } from './joins/temporalJoin.js';
export type {
  TemporalJoinContext,
  TemporalJoinFunction,
  TemporalJoinMode,
  TemporalJoinOptions,
  TemporalMatch,
} from './joins/types.js';
export { count } from './aggregates/count.js';
export { sum } from './aggregates/sum.js';
export { min } from './aggregates/min.js';
export { max } from './aggregates/max.js';
export { avg, type AvgAccumulator } from './aggregates/avg.js';
export { first } from './aggregates/first.js';
export { last } from './aggregates/last.js';
export { topN, type TopNAccumulator, type TopNEntry } from './aggregates/topN.js';
export { distinctCount, type DistinctCountAccumulator } from './aggregates/distinctCount.js';
export {
  approxDistinctCount,
  type ApproxDistinctCountOptions,
  type HyperLogLogAccumulator,
} from './aggregates/approxDistinctCount.js';
export {
  approxQuantiles,
  type ApproxQuantilesOptions,
  type QuantileSummary,
  type TDigestAccumulator,
} from './aggregates/approxQuantiles.js';
export type { ExtremumAccumulator, OrderedValueAccumulator, SumAccumulator } from './aggregates/types.js';
export { Deduplicate, type DeduplicateCounts, type DeduplicateOptions, deduplicate } from './dedup/Deduplicate.js';
