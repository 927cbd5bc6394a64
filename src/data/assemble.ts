/**
 * The last step every reader shares: turn the builders into a Dataset, count duplicate events
 * and attach the load report.
 */
import type { Dataset, DatasetFormat, ItemInfo, TagEvents, UserInfo } from "./dataset.js";
import { countDuplicateEvents } from "./duplicates.js";
import type { EventTable } from "./read-events.js";
import type { ReportBuilder } from "./report.js";

export interface DatasetParts {
  readonly name: string;
  readonly format: DatasetFormat;
  readonly source: string;
  /** Base name of the events file, for messages. */
  readonly eventsFile: string;
  readonly table: EventTable;
  readonly itemInfo: ItemInfo;
  readonly userInfo: UserInfo | null;
  readonly tags: TagEvents | null;
  readonly report: ReportBuilder;
}

export function assembleDataset(p: DatasetParts): Dataset {
  const events = p.table.events.finish();
  const users = p.table.users.finish();
  const items = p.table.items.finish();
  const dup = countDuplicateEvents(events, users.ids.length, items.ids.length);
  p.report.duplicateEvents = dup.count;
  if (dup.count > 0) {
    const shown = dup.examples.map(([, k]) => {
      const u = users.ids[events.user[k]];
      const i = items.ids[events.item[k]];
      return `(user ${u}, item ${i}, time ${events.time[k]})`;
    });
    p.report.warn(
      `${p.eventsFile}: ${dup.count} event${dup.count === 1 ? "" : "s"} repeat an earlier (user, item, timestamp) row, e.g. ${shown.join(", ")}`,
    );
  }
  return {
    name: p.name,
    format: p.format,
    source: p.source,
    users,
    items,
    events,
    itemInfo: p.itemInfo,
    userInfo: p.userInfo,
    tags: p.tags,
    report: p.report.finish(),
  };
}
