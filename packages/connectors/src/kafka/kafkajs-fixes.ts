import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface AbortedTransaction {
  readonly producerId: string;
  readonly firstOffset: string;
}

interface FetchResult {
  responses?: Array<{ partitions?: Array<{ abortedTransactions?: AbortedTransaction[] | null }> }>;
}

type VersionFn = (args: unknown) => { response: { parse(data: unknown): Promise<FetchResult> | FetchResult } };

let fixed = false;

/**
 * Makes kafkajs's read_committed consumers filter aborted transactions correctly.
 *
 * kafkajs 2.2.4 drops the records of aborted transactions using the `abortedTransactions` list
 * of each fetch response, walking it in order and assuming it is sorted by first offset. Kafka
 * does not sort it (the Java client keeps it in a priority queue): when a later-starting aborted
 * transaction is listed first, the records of the earlier one are delivered as if committed — a
 * read_committed kafkajs consumer then sees, for example, the half-written transaction of a
 * crashed exactly-once producer. This fix sorts the list by first offset as fetch responses are
 * parsed. It patches kafkajs's Fetch request definition, which kafkajs looks up for every request,
 * so it takes effect in consumers created before or after the call. Idempotent; the Kafka
 * connectors call it themselves. Call it once if your own kafkajs consumers read topics written
 * with transactions (the output of an exactly-once `KafkaSink`).
 * @returns whether kafkajs is now fixed (false if its internals were not found)
 * @public
 */
export function fixKafkajsReadCommitted(): boolean {
  if (fixed) return true;
  let def: { protocol: (o: { version: number }) => VersionFn; __weirSortedAborted?: boolean };
  try {
    def = require('kafkajs/src/protocol/requests/fetch/index.js');
  } catch {
    return false;
  }
  if (def.__weirSortedAborted === true) {
    fixed = true;
    return true;
  }
  const original = def.protocol;
  if (typeof original !== 'function') return false;
  def.protocol = (o) => {
    const versionFn = original(o);
    return (args: unknown) => {
      const r = versionFn(args);
      const parse = r.response.parse.bind(r.response);
      return { ...r, response: { ...r.response, parse: async (data: unknown) => sortAborted(await parse(data)) } };
    };
  };
  def.__weirSortedAborted = true;
  fixed = true;
  return true;
}

function sortAborted(result: FetchResult): FetchResult {
  for (const t of result.responses ?? []) {
    for (const p of t.partitions ?? []) {
      const list = p.abortedTransactions;
      if (list !== undefined && list !== null && list.length > 1) {
        list.sort((a, b) => {
          const x = BigInt(a.firstOffset);
          const y = BigInt(b.firstOffset);
          return x < y ? -1 : x > y ? 1 : 0;
        });
      }
    }
  }
  return result;
}
