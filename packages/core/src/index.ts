/**
 * `@weir/core`: the engine, the DataStream API, keyed state and timers.
 * @packageDocumentation
 */
export { StreamEnvironment, type StreamEnvironmentOptions } from './api/StreamEnvironment.js';
export {
  defineJob,
  isJob,
  type Job,
  type JobConfig,
  type JobDefinition,
  type JobEnvironmentDefaults,
  type JobOption,
  type JobOptions,
  type JobOptionValue,
  type JobProgress,
  type JobRunResult,
  RESERVED_JOB_OPTIONS,
  resolveJobConfig,
  resolveJobEnvOptions,
  type RunJobOptions,
  type RunningJob,
  runJob,
  startJob,
} from './api/Job.js';
export { UsageError } from './cli/args.js';
export {
  ConnectedStreams,
  DataStream,
  DataStreamSink,
  KeyedConnectedStreams,
  KeyedStream,
} from './api/DataStream.js';
export type {
  AggregateFunction,
  Collector,
  CoProcessFunction,
  FilterFunction,
  FlatMapFunction,
  KeyedCoProcessFunction,
  KeyedProcessContext,
  KeyedProcessFunction,
  MapFunction,
  OnTimerContext,
  ProcessContext,
  ProcessFunction,
  ReduceFunction,
  RuntimeContext,
  TaskInfo,
  TimeDomain,
  TimerService,
} from './api/functions.js';
export { OutputTag } from './api/OutputTag.js';
export {
  BoundedOutOfOrdernessGenerator,
  type TimestampAssigner,
  type WatermarkGenerator,
  type WatermarkGeneratorContext,
  type WatermarkOutput,
  WatermarkStrategy,
} from './api/WatermarkStrategy.js';
export { type Clock, ManualClock, SystemClock } from './api/Clock.js';
export { jsonSerde, type Serde, stringSerde } from './api/Serde.js';
export {
  type Boundedness,
  type Cancellable,
  type KeyField,
  type KeySelector,
  type KeyType,
  MAX_WATERMARK,
  MIN_WATERMARK,
  NO_TIMESTAMP,
  type WidenedKey,
} from './api/types.js';
export { InvalidPipelineError, JobCancelledError, UserFunctionError } from './api/errors.js';
export type {
  JobClient,
  JobExecutionResult,
  JobMetrics,
  JobStatus,
  OperatorMetrics,
  TaskMetrics,
} from './api/JobClient.js';
export type {
  InputStatus,
  ReaderOutput,
  Source,
  SourceOutput,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from './api/Source.js';
export type { Sink, SinkWriter, SinkWriterContext } from './api/Sink.js';
export { CollectionSource, type CollectionSplit } from './sources/CollectionSource.js';
export { SequenceSource, type SequenceSplit } from './sources/SequenceSource.js';
export { SplitQueueReader } from './sources/SplitQueueReader.js';
export { StaticSplitEnumerator } from './sources/StaticSplitEnumerator.js';
export { CollectSink } from './sinks/CollectSink.js';
export { PrintSink } from './sinks/PrintSink.js';
export {
  type AggregatingState,
  AggregatingStateDescriptor,
  type ListState,
  ListStateDescriptor,
  type MapState,
  MapStateDescriptor,
  type ReducingState,
  ReducingStateDescriptor,
  StateDescriptor,
  type StateDescriptorOptions,
  type StateKind,
  type StateTtlConfig,
  type ValueState,
  ValueStateDescriptor,
} from './state/descriptors.js';
export { HeapStateBackend } from './state/HeapStateBackend.js';
export {
  LevelKeyedStateBackend,
  LevelStateBackend,
  type LevelStateBackendOptions,
  type LevelStateStats,
} from './state/LevelStateBackend.js';
export type {
  InternalAggregatingState,
  InternalKvState,
  InternalListState,
  InternalMapState,
  InternalReducingState,
  InternalValueState,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  KeyedStateSnapshot,
  Namespace,
  StateBackend,
} from './state/StateBackend.js';
export { VOID_NAMESPACE } from './state/StateBackend.js';
export {
  DEFAULT_MAX_PARALLELISM,
  hashKey,
  type KeyGroupRange,
  keyGroupFor,
  keyGroupRangeFor,
  subtaskForKeyGroup,
} from './runtime/keygroups.js';
export { WindowedStream } from './api/WindowedStream.js';
export {
  type AsyncFunction,
  type AsyncLookup,
  type AsyncOptions,
  type AsyncRetryOptions,
  AsyncDataStream,
  AsyncTimeoutError,
} from './api/AsyncDataStream.js';
export { BroadcastConnectedStreams, BroadcastStream, KeyedBroadcastConnectedStreams } from './api/BroadcastStream.js';
export type {
  BroadcastBaseContext,
  BroadcastContext,
  BroadcastProcessFunction,
  BroadcastReadOnlyContext,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastProcessFunction,
  KeyedBroadcastReadOnlyContext,
} from './api/BroadcastProcessFunction.js';
export type { AnyMapStateDescriptor, BroadcastState, ReadOnlyBroadcastState } from './state/BroadcastState.js';
export { IntervalJoin, IntervalJoined } from './api/IntervalJoin.js';
export { JoinedStreams, JoinEqualTo, JoinWhere, WindowedJoin } from './api/JoinedStreams.js';
export { CoGroupedStreams, CoGroupEqualTo, CoGroupWhere, WindowedCoGroup } from './api/CoGroupedStreams.js';
export type {
  CoGroupFunction,
  FlatJoinFunction,
  JoinFunction,
  ProcessJoinContext,
  ProcessJoinFunction,
  TaggedUnion,
} from './api/joinFunctions.js';
export { GlobalWindow, TimeWindow, Window } from './api/windowing/Window.js';
export {
  isSessionAssigner,
  isSliceAssigner,
  MergingWindowAssigner,
  type SessionAssigner,
  type SliceAssigner,
  WindowAssigner,
  type WindowAssignerContext,
} from './api/windowing/WindowAssigner.js';
export type {
  OnMergeContext,
  StateFor,
  Trigger,
  TriggerContext,
  TriggerResult,
} from './api/windowing/Trigger.js';
export type { Evictor, EvictorContext, TimestampedValue } from './api/windowing/Evictor.js';
export type {
  KeyedStateStore,
  ProcessWindowContext,
  ProcessWindowFunction,
  WindowFunction,
  WindowResultFunction,
} from './api/windowing/functions.js';
export {
  type CheckpointConfig,
  type CompletedCheckpoint,
} from './checkpoint/CheckpointCoordinator.js';
export {
  type CheckpointFileEntry,
  type CheckpointInfo,
  type CheckpointManifest,
  CheckpointStorage,
  type RestoredCheckpoint,
} from './checkpoint/CheckpointStorage.js';
export type { OperatorSubtaskSnapshot } from './checkpoint/OperatorSnapshot.js';
export {
  type Committer,
  isTwoPhaseCommittingSink,
  type TwoPhaseCommittingSink,
  type TwoPhaseCommittingSinkWriter,
} from './api/Sink.js';
