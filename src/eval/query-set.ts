/**
 * Builds a QuerySet (CSR histories and targets) one query at a time, growing typed arrays so the
 * protocols never hold arrays of objects.
 */
import type { Events } from "../data/dataset.js";
import type { QuerySet } from "./types.js";

class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

class GrowableFloat64 {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export class QuerySetBuilder {
  private readonly users = new GrowableInt32();
  private readonly times = new GrowableFloat64();
  private readonly historyOffsets = new GrowableInt32();
  private readonly historyItems = new GrowableInt32();
  private readonly historyTimes = new GrowableFloat64();
  private readonly targetOffsets = new GrowableInt32();
  private readonly targetItems = new GrowableInt32();

  constructor(private readonly events: Events) {
    this.historyOffsets.push(0);
    this.targetOffsets.push(0);
  }

  /** Adds a query whose history is the events order[from .. to) (already in time order). */
  add(
    user: number,
    time: number,
    order: Int32Array,
    from: number,
    to: number,
    targets: ArrayLike<number>,
  ): void {
    this.users.push(user);
    this.times.push(time);
    for (let i = from; i < to; i++) {
      const e = order[i];
      this.historyItems.push(this.events.item[e]);
      this.historyTimes.push(this.events.time[e]);
    }
    this.historyOffsets.push(this.historyItems.length);
    for (let i = 0; i < targets.length; i++) this.targetItems.push(targets[i]);
    this.targetOffsets.push(this.targetItems.length);
  }

  get size(): number {
    return this.users.length;
  }

  finish(): QuerySet {
    return {
      users: this.users.finish(),
      times: this.times.finish(),
      historyOffsets: this.historyOffsets.finish(),
      historyItems: this.historyItems.finish(),
      historyTimes: this.historyTimes.finish(),
      targetOffsets: this.targetOffsets.finish(),
      targetItems: this.targetItems.finish(),
    };
  }
}
