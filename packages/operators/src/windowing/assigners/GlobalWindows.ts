import { GlobalWindow, type Trigger, type TriggerResult, WindowAssigner } from '@weir/core';

/**
 * One window per key holding everything. It never fires by itself: give it a trigger
 * (`CountTrigger.of(n)`, say).
 * @public
 */
export class GlobalWindows<T = unknown> extends WindowAssigner<T, GlobalWindow> {
  private static readonly WINDOWS: readonly GlobalWindow[] = [GlobalWindow.INSTANCE];

  private constructor() {
    super();
  }

  /** The assigner. */
  static create<T = unknown>(): GlobalWindows<T> {
    return new GlobalWindows<T>();
  }

  assignWindows(): readonly GlobalWindow[] {
    return GlobalWindows.WINDOWS;
  }

  getDefaultTrigger(): Trigger<T, GlobalWindow> {
    return NEVER_TRIGGER as Trigger<T, GlobalWindow>;
  }

  isEventTime(): boolean {
    return false;
  }

  windowFromId(): GlobalWindow {
    return GlobalWindow.INSTANCE;
  }
}

const CONTINUE: TriggerResult = 'CONTINUE';

/** The default trigger of global windows: never fires. */
const NEVER_TRIGGER: Trigger<unknown, GlobalWindow> = {
  onElement: () => CONTINUE,
  onEventTime: () => CONTINUE,
  onProcessingTime: () => CONTINUE,
  canMerge: () => true,
  onMerge: () => {},
  clear: () => {},
};
