import { InvalidPipelineError } from '../api/errors.js';
import type { OutputTag } from '../api/OutputTag.js';
import type { Transformation } from '../api/Transformation.js';
import type { KeySelector, KeyType } from '../api/types.js';
import type { PartitionerKind } from './Exchange.js';
import { checkParallelism } from './keygroups.js';

/** An operator of the physical plan. @internal */
export interface PlanVertex {
  readonly t: Transformation;
  readonly uid: string;
  readonly parallelism: number;
  readonly inputs: PlanEdge[];
  readonly outputs: PlanEdge[];
  /** Chain this vertex belongs to (its head). */
  chainHead: PlanVertex;
}

/** A connection between two operators. @internal */
export interface PlanEdge {
  readonly source: PlanVertex;
  readonly target: PlanVertex;
  readonly inputIndex: number;
  readonly partitioner: PartitionerKind;
  readonly keySelector: KeySelector<unknown, KeyType> | undefined;
  readonly tag: OutputTag<unknown> | undefined;
  /** Whether the edge is a synchronous call inside one task. */
  chained: boolean;
}

/** A chain of operators run as one task per subtask. @internal */
export interface PlanChain {
  readonly head: PlanVertex;
  /** Operators in topological order, head first. */
  readonly vertices: PlanVertex[];
  readonly parallelism: number;
  readonly name: string;
}

/** The physical plan: vertices, edges, chains. @internal */
export interface JobPlan {
  readonly vertices: PlanVertex[];
  readonly chains: PlanChain[];
  readonly maxParallelism: number;
}

/**
 * Turns the logical graph reachable from `sinks` into a physical plan: parallelism resolved,
 * virtual nodes folded into edges, forward edges between equal parallelism chained.
 * @internal
 */
export function buildPlan(sinks: readonly Transformation[], defaultParallelism: number, maxParallelism: number): JobPlan {
  if (sinks.length === 0) throw new InvalidPipelineError('the job has no sinks: add sinkTo(), print() or executeAndCollect()');
  // Collect real transformations reachable from the sinks, in id order (ids follow creation order).
  const seen = new Set<Transformation>();
  const visit = (t: Transformation): void => {
    if (seen.has(t)) return;
    seen.add(t);
    for (const i of t.inputs) visit(i);
  };
  for (const s of sinks) visit(s);
  const real = [...seen].filter((t) => !t.isVirtual).sort((a, b) => a.id - b.id);

  const vertices = new Map<Transformation, PlanVertex>();
  const uids = new Map<string, Transformation>();
  for (const t of real) {
    const uid = t.effectiveUid;
    const clash = uids.get(uid);
    if (clash !== undefined) {
      throw new InvalidPipelineError(`uid '${uid}' is used by both '${clash.name}' and '${t.name}': uids must be unique`);
    }
    uids.set(uid, t);
    let p = t.parallelism ?? defaultParallelism;
    if (t.kind === 'source' && t.parallelism === undefined) {
      const limit = t.source?.maxParallelism;
      if (limit !== undefined) p = Math.min(p, limit);
    }
    if (t.kind === 'source' && t.source?.maxParallelism !== undefined && p > t.source.maxParallelism) {
      throw new InvalidPipelineError(
        `source '${t.name}' supports parallelism at most ${t.source.maxParallelism}, but ${p} was set`,
      );
    }
    checkParallelism(p, maxParallelism, `operator '${t.name}'`);
    const v: PlanVertex = { t, uid, parallelism: p, inputs: [], outputs: [], chainHead: undefined as unknown as PlanVertex };
    v.chainHead = v;
    vertices.set(t, v);
  }

  interface Path {
    partitioner: PartitionerKind | undefined;
    key: KeySelector<unknown, KeyType> | undefined;
    tag: OutputTag<unknown> | undefined;
  }
  const edges: PlanEdge[] = [];
  const resolve = (target: PlanVertex, inputIndex: number, t: Transformation, path: Path): void => {
    switch (t.kind) {
      case 'partition':
        resolve(target, inputIndex, t.inputs[0] as Transformation, {
          partitioner: path.partitioner ?? t.partitioner,
          key: path.partitioner === undefined ? t.partitionKey : path.key,
          tag: path.tag,
        });
        return;
      case 'union':
        for (const i of t.inputs) resolve(target, inputIndex, i, path);
        return;
      case 'sideOutput': {
        const producer = t.inputs[0] as Transformation;
        if (producer.isVirtual) {
          throw new InvalidPipelineError(
            `getSideOutput(${t.tag?.id}) must be called on the stream of an operator, not on a ${producer.kind} stream`,
          );
        }
        if (path.tag !== undefined) throw new InvalidPipelineError('a side output of a side output is not possible');
        resolve(target, inputIndex, producer, { ...path, tag: t.tag });
        return;
      }
      default: {
        const source = vertices.get(t) as PlanVertex;
        let partitioner = path.partitioner;
        if (partitioner === undefined) partitioner = source.parallelism === target.parallelism ? 'forward' : 'rebalance';
        if (partitioner === 'forward' && source.parallelism !== target.parallelism) {
          throw new InvalidPipelineError(
            `forward partitioning from '${source.t.name}' (parallelism ${source.parallelism}) to '${target.t.name}' (parallelism ${target.parallelism}) is not possible; use rebalance()`,
          );
        }
        const e: PlanEdge = {
          source,
          target,
          inputIndex,
          partitioner,
          keySelector: path.key,
          tag: path.tag,
          chained: false,
        };
        edges.push(e);
        source.outputs.push(e);
        target.inputs.push(e);
      }
    }
  };
  for (const v of vertices.values()) {
    v.t.inputs.forEach((input, i) => {
      resolve(v, i, input, { partitioner: undefined, key: undefined, tag: undefined });
    });
  }

  // Chaining: a forward edge into a single-input operator of equal parallelism is a call. So is
  // a keyed (hash) edge between two operators of parallelism 1: every key goes to the one
  // subtask anyway, and the keyed operator sets its key per record itself.
  for (const e of edges) {
    const tgt = e.target;
    e.chained =
      (e.partitioner === 'forward' || (e.partitioner === 'hash' && tgt.parallelism === 1)) &&
      tgt.inputs.length === 1 &&
      tgt.t.kind !== 'twoInput' &&
      e.source.parallelism === tgt.parallelism;
  }
  const ordered = [...vertices.values()];
  for (const v of ordered) {
    const inE = v.inputs[0];
    if (v.inputs.length === 1 && inE !== undefined && inE.chained) v.chainHead = inE.source.chainHead;
  }
  const chains: PlanChain[] = [];
  for (const v of ordered) {
    if (v.chainHead !== v) continue;
    const members: PlanVertex[] = [];
    const queue = [v];
    while (queue.length > 0) {
      const x = queue.shift() as PlanVertex;
      members.push(x);
      for (const e of x.outputs) if (e.chained) queue.push(e.target);
    }
    chains.push({ head: v, vertices: members, parallelism: v.parallelism, name: members.map((m) => m.t.name).join(' -> ') });
  }
  return { vertices: ordered, chains, maxParallelism };
}
