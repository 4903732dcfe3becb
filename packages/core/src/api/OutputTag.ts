/**
 * Names a side output: a second, typed output of an operator, written with
 * `ctx.output(tag, value)` and read with `stream.getSideOutput(tag)`. Late window data, dead
 * letters and alerts are typical side outputs.
 *
 * The tag's type parameter is invariant, so reading a `OutputTag<string>` as a stream of
 * numbers, or writing a number to it, does not compile.
 *
 * @example
 * ```ts
 * const lateTag = new OutputTag<Ev>('late');
 * const late: DataStream<Ev> = windowed.getSideOutput(lateTag);
 * ```
 * @public
 */
export class OutputTag<T> {
  /** Phantom member that makes `T` invariant; it holds no value at run time. */
  declare private readonly __type: (value: T) => T;

  /**
   * @param id - unique name of the side output within the job
   */
  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError('OutputTag id must be a non-empty string');
    }
  }

  /** @returns a readable description */
  toString(): string {
    return `OutputTag(${this.id})`;
  }
}
