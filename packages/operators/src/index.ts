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
