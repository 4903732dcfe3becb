import type { Sink, SinkWriter, SinkWriterContext } from '../api/Sink.js';

/**
 * Prints each record on its own line (`stream.print()`), prefixed with the subtask index when
 * the sink runs in parallel, as Flink does (`2> value`).
 * @public
 */
export class PrintSink<T> implements Sink<T> {
  /**
   * @param prefix - printed before each record
   * @param write - where lines go (stdout by default)
   */
  constructor(
    private readonly prefix = '',
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** A writer that prints each record (strings as they are, other values as JSON). */
  createWriter(ctx: SinkWriterContext): SinkWriter<T> {
    const parallel = ctx.taskInfo.parallelism > 1;
    const head = `${this.prefix}${this.prefix && parallel ? ':' : ''}${parallel ? `${ctx.taskInfo.subtaskIndex + 1}` : ''}`;
    const lead = head.length > 0 ? `${head}> ` : '';
    const write = this.write;
    return {
      write(value: T): void {
        write(`${lead}${typeof value === 'string' ? value : JSON.stringify(value)}`);
      },
    };
  }
}
