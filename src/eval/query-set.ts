/**
 * Builds a QuerySet (CSR histories and targets) one query at a time, growing typed arrays so the
 * protocols never hold arrays of objects.
 */
import type { Events } from "../data/dataset.js";
import type { QuerySet } from "./types.js";

/** A typed array grown by doubling; finish() returns exactly the pushed values. */
class Growable<T extends Int32Array | Float64Array> {
  private data: T;
  length = 0;

  constructor(private readonly alloc: (n: number) => T) {
    this.data = alloc(1024);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.alloc(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  finish(): T {
    return this.data.slice(0, this.length) as T;
  }
}

const int32s = (): Growable<Int32Array> => new Growable((n) => new Int32Array(n));
const float64s = (): Growable<Float64Array> => new Growable((n) => new Float64Array(n));

export class QuerySetBuilder {
  private readonly users = int32s();
  private readonly times = float64s();
  private readonly historyOffsets = int32s();
  private readonly historyItems = int32s();
  private readonly historyTimes = float64s();
  private readonly targetOffsets = int32s();
  private readonly targetItems = int32s();

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
