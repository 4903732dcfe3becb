/**
 * Combines the watermarks and idle flags of several inputs into one watermark: the minimum over
 * the active inputs, never decreasing. An idle input does not hold the watermark back; an
 * input that becomes active again counts only once its watermark has caught up with the
 * combined one (it must not pull event time back). When every input is idle the combined
 * output is idle, and the largest watermark among them is emitted so that time is not lost.
 * @internal
 */
export class WatermarkValve {
  private readonly watermarks: Float64Array;
  private readonly idle: Uint8Array;
  private readonly aligned: Uint8Array;
  private lastOutput = Number.NEGATIVE_INFINITY;
  private outputIdle = false;

  constructor(readonly numInputs: number) {
    this.watermarks = new Float64Array(numInputs).fill(Number.NEGATIVE_INFINITY);
    this.idle = new Uint8Array(numInputs);
    this.aligned = new Uint8Array(numInputs).fill(1);
  }

  /** The combined watermark emitted so far. */
  get current(): number {
    return this.lastOutput;
  }

  /** Whether the combined output is idle. */
  get isIdle(): boolean {
    return this.outputIdle;
  }

  /**
   * Feeds a watermark of input `i`.
   * @returns the new combined watermark, or `NaN` when it did not advance
   */
  inputWatermark(i: number, watermark: number): number {
    if (this.idle[i] === 1) {
      // A watermark implies activity (as an explicit active status does).
      this.idle[i] = 0;
      this.aligned[i] = (this.watermarks[i] as number) >= this.lastOutput ? 1 : 0;
      this.outputIdle = false;
    }
    if (watermark > (this.watermarks[i] as number)) {
      this.watermarks[i] = watermark;
      if (this.aligned[i] === 0 && watermark >= this.lastOutput) this.aligned[i] = 1;
      return this.recompute();
    }
    return Number.NaN;
  }

  /**
   * Feeds an idle/active status of input `i`.
   * @returns the new combined watermark (or `NaN`); read {@link WatermarkValve.isIdle} for status
   */
  inputStatus(i: number, idle: boolean): number {
    const was = this.idle[i] === 1;
    if (was === idle) return Number.NaN;
    this.idle[i] = idle ? 1 : 0;
    if (!idle) {
      this.aligned[i] = (this.watermarks[i] as number) >= this.lastOutput ? 1 : 0;
      this.outputIdle = false;
      return Number.NaN;
    }
    return this.recompute();
  }

  private recompute(): number {
    let min = Number.POSITIVE_INFINITY;
    let anyActive = false;
    for (let i = 0; i < this.numInputs; i++) {
      if (this.idle[i] === 0 && this.aligned[i] === 1) {
        anyActive = true;
        const w = this.watermarks[i] as number;
        if (w < min) min = w;
      }
    }
    if (!anyActive) {
      let allIdle = true;
      for (let i = 0; i < this.numInputs; i++) if (this.idle[i] === 0) allIdle = false;
      if (allIdle) {
        this.outputIdle = true;
        let max = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < this.numInputs; i++) max = Math.max(max, this.watermarks[i] as number);
        if (max > this.lastOutput) {
          this.lastOutput = max;
          return max;
        }
      }
      return Number.NaN;
    }
    this.outputIdle = false;
    if (min > this.lastOutput) {
      this.lastOutput = min;
      return min;
    }
    return Number.NaN;
  }
}
