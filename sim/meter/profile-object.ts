/**
 * Profile generic (class 7 v1) over a row source: the source produces rows lazily (entry
 * window or time window), this object parses the access selection, picks columns and,
 * optionally, sends null-data in regular clock cells as real meters do.
 */
import { ActionResult, DataAccessResult } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { dataAsDateTime, dateTimeToEpoch } from '../../protocol/axdr/datetime';
import { CLOCK_CAPTURE_OBJECT, captureObjectEquals, encodeCaptureObject, encodeCaptureObjects, isClockColumn } from '../../protocol/cosem/capture-object';
import type { CaptureObject } from '../../protocol/cosem/capture-object';
import type { Obis } from '../../protocol/cosem/obis';
import { nullRegularClocks } from '../../protocol/cosem/profile';
import { type AccessSelector, applySelector, decodeAccessSelector, selectedColumns } from '../../protocol/cosem/selective-access';
import type { ActionOutcome, GetOutcome, RequestContext, Selection, ServerObject } from '../../protocol/server/object';
import type { DateTimeStyle } from './meter-clock';

export interface ProfileSource {
  readonly captureObjects: readonly CaptureObject[];
  /** capture_period, seconds (0 = event driven). */
  readonly periodS: number;
  /** profile_entries: the buffer's capacity. */
  readonly depth: number;
  entriesInUse(ctx: RequestContext): number;
  /** Rows (all columns) of entries [from, to), 0-based, oldest first. */
  rowsByEntry(ctx: RequestContext, from: number, to: number): Data[];
  /** Rows (all columns) captured in [from, to] (null = open side), oldest first. */
  rowsByTime(ctx: RequestContext, from: number | null, to: number | null): Data[];
  /** Method 1 reset; false when the buffer cannot be cleared. */
  reset?(ctx: RequestContext): boolean;
}

export interface ProfileObjectOptions {
  readonly obis: Obis;
  readonly source: ProfileSource;
  /** Date-time style, to read range bounds. */
  readonly style: () => DateTimeStyle;
  /** Null-data in the clock cell of rows at previous + period (default false). */
  readonly nullClocks?: boolean;
}

const fail = (result: DataAccessResult): GetOutcome => ({ ok: false, result });

export class ProfileObject implements ServerObject {
  readonly classId = 7;
  readonly version = 1;
  readonly obis: Obis;

  constructor(private readonly options: ProfileObjectOptions) {
    this.obis = options.obis;
  }

  get(attribute: number, ctx: RequestContext, selection?: Selection): GetOutcome {
    const src = this.options.source;
    const ok = (data: Data): GetOutcome => ({ ok: true, data });
    switch (attribute) {
      case 2:
        return this.buffer(ctx, selection);
      case 3:
        return ok(encodeCaptureObjects(src.captureObjects));
      case 4:
        return ok({ type: 'uint32', value: src.periodS });
      case 5:
        return ok({ type: 'enum', value: 1 }); // fifo
      case 6:
        return ok(src.captureObjects.some(isClockColumn) ? encodeCaptureObject(CLOCK_CAPTURE_OBJECT) : encodeCaptureObject({ classId: 0, obis: [0, 0, 0, 0, 0, 0], attributeIndex: 0, dataIndex: 0 }));
      case 7:
        return ok({ type: 'uint32', value: src.entriesInUse(ctx) });
      case 8:
        return ok({ type: 'uint32', value: src.depth });
      default:
        return fail(DataAccessResult.objectUndefined);
    }
  }

  set(): DataAccessResult {
    return DataAccessResult.readWriteDenied;
  }

  action(method: number, _parameters: Data | undefined, ctx: RequestContext): ActionOutcome {
    if (method === 1) return { result: this.options.source.reset?.(ctx) === true ? ActionResult.success : ActionResult.readWriteDenied };
    // capture: rows are captured by the meter's own schedule or events.
    if (method === 2) return { result: ActionResult.success };
    return { result: ActionResult.objectUndefined };
  }

  private buffer(ctx: RequestContext, selection: Selection | undefined): GetOutcome {
    const src = this.options.source;
    const all = src.captureObjects;
    if (selection === undefined) return { ok: true, data: this.answer(src.rowsByEntry(ctx, 0, src.entriesInUse(ctx)), all) };
    let sel: AccessSelector;
    let columns: number[];
    try {
      sel = decodeAccessSelector(selection.selector, selection.parameters);
      columns = selectedColumns(all, sel);
    } catch {
      return fail(DataAccessResult.otherReason);
    }
    let rows: Data[];
    if (sel.selector === 2) {
      if (sel.toEntry !== 0 && sel.toEntry < sel.fromEntry) return fail(DataAccessResult.otherReason);
      const n = src.entriesInUse(ctx);
      const from = Math.max(sel.fromEntry, 1) - 1;
      const to = sel.toEntry === 0 ? n : Math.min(sel.toEntry, n);
      rows = from >= to ? [] : src.rowsByEntry(ctx, from, to);
    } else if (captureObjectEquals(sel.restrictingObject, CLOCK_CAPTURE_OBJECT) && all.some(isClockColumn)) {
      const from = this.bound(sel.from);
      const to = this.bound(sel.to);
      rows = from !== null && to !== null && to < from ? [] : src.rowsByTime(ctx, from, to);
    } else {
      // Another restricting column: materialise the buffer and filter it generically.
      try {
        rows = applySelector(src.rowsByEntry(ctx, 0, src.entriesInUse(ctx)), all, { ...sel, columns: [] }, this.dateOptions()).rows;
      } catch {
        return fail(DataAccessResult.otherReason);
      }
    }
    const picked = rows.map((r): Data => (r.type === 'structure' ? { type: 'structure', items: columns.map((i) => r.items[i] ?? { type: 'null' }) } : r));
    return { ok: true, data: this.answer(picked, columns.map((i) => all[i]).filter((c): c is CaptureObject => c !== undefined)) };
  }

  private answer(rows: Data[], columns: readonly CaptureObject[]): Data {
    const period = this.options.source.periodS;
    const items = this.options.nullClocks === true && period > 0 ? nullRegularClocks(rows, columns, period, this.dateOptions()) : rows;
    return { type: 'array', items };
  }

  private dateOptions(): { convention: DateTimeStyle['convention']; defaultDeviation: number } {
    const s = this.options.style();
    return { convention: s.convention, defaultDeviation: s.deviation };
  }

  /** A range bound as epoch ms; null when open (wildcards, null-data) or not a date. */
  private bound(d: Data): number | null {
    try {
      const dt = dataAsDateTime(d);
      return dt === undefined ? null : dateTimeToEpoch(dt, this.dateOptions());
    } catch {
      return null;
    }
  }
}
