/**
 * Building blocks for meter models: an object whose attributes are stored values or
 * getters, and an ObjectModel over a list. Enough for tests and simple simulated meters;
 * richer behaviour (profiles, image transfer) supplies its own ServerObject.
 */
import { ActionResult, DataAccessResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import type { Obis } from '../cosem/obis';
import { obisEquals } from '../cosem/obis';
import type { ActionOutcome, GetOutcome, ObjectModel, RequestContext, Selection, ServerObject } from './object';

export type AttributeSource = Data | ((ctx: RequestContext, selection?: Selection) => GetOutcome);
export type MethodHandler = (parameters: Data | undefined, ctx: RequestContext) => ActionOutcome;

export interface ValueObjectSpec {
  readonly classId: number;
  readonly version: number;
  readonly obis: Obis;
  /** Attribute index → value or getter (attribute 1 is answered by the server). */
  readonly attributes: Readonly<Record<number, AttributeSource>>;
  readonly methods?: Readonly<Record<number, MethodHandler>>;
  /** Attribute index → custom SET (needed for attributes served by a getter). */
  readonly setters?: Readonly<Record<number, (value: Data, ctx: RequestContext) => DataAccessResult>>;
  /** Called after a stored value changed through SET (e.g. to persist). */
  /** See ServerObject.attributeIds / methodIds (for classes the tables do not describe). */
  readonly attributeIds?: readonly number[];
  readonly methodIds?: readonly number[];
  readonly onSet?: (attribute: number, value: Data, ctx: RequestContext) => void;
}

export class ValueObject implements ServerObject {
  readonly classId: number;
  readonly version: number;
  readonly obis: Obis;
  readonly attributeIds?: readonly number[];
  readonly methodIds?: readonly number[];
  private readonly values = new Map<number, AttributeSource>();

  constructor(private readonly spec: ValueObjectSpec) {
    this.classId = spec.classId;
    this.version = spec.version;
    this.obis = spec.obis;
    if (spec.attributeIds !== undefined) this.attributeIds = spec.attributeIds;
    if (spec.methodIds !== undefined) this.methodIds = spec.methodIds;
    for (const [k, v] of Object.entries(spec.attributes)) this.values.set(Number(k), v);
  }

  get(attribute: number, ctx: RequestContext, selection?: Selection): GetOutcome {
    const v = this.values.get(attribute);
    if (v === undefined) return { ok: false, result: DataAccessResult.objectUnavailable };
    if (typeof v === 'function') return v(ctx, selection);
    // Stored values do not support selective access.
    if (selection !== undefined) return { ok: false, result: DataAccessResult.otherReason };
    return { ok: true, data: v };
  }

  set(attribute: number, value: Data, ctx: RequestContext): DataAccessResult {
    const setter = this.spec.setters?.[attribute];
    if (setter !== undefined) return setter(value, ctx);
    const v = this.values.get(attribute);
    if (typeof v === 'function') return DataAccessResult.readWriteDenied;
    this.values.set(attribute, value);
    this.spec.onSet?.(attribute, value, ctx);
    return DataAccessResult.success;
  }

  action(method: number, parameters: Data | undefined, ctx: RequestContext): ActionOutcome {
    const h = this.spec.methods?.[method];
    return h === undefined ? { result: ActionResult.objectUnavailable } : h(parameters, ctx);
  }

  /** The stored value (not getters), for tests and models. */
  value(attribute: number): Data | undefined {
    const v = this.values.get(attribute);
    return typeof v === 'function' ? undefined : v;
  }
}

/** ObjectModel over a fixed list, in object_list order. */
export class ListObjectModel implements ObjectModel {
  constructor(private readonly list: readonly ServerObject[]) {}

  find(classId: number, obis: Obis): ServerObject | undefined {
    return this.list.find((o) => o.classId === classId && obisEquals(o.obis, obis));
  }

  objects(): readonly ServerObject[] {
    return this.list;
  }
}
