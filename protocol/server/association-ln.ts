/**
 * The "current association" object (Association LN, class 15 v2, 0.0.40.0.0.255) every
 * logical device has. The server provides it, so meter models only list their own objects;
 * its object_list is computed per client from that client's AccessPolicy.
 */
import { DataAccessResult, ActionResult } from '../apdu/results';
import { conformanceToNumber } from '../apdu/conformance';
import type { Data } from '../axdr/data';
import type { Obis } from '../cosem/obis';
import { encodeObjectList, type ObjectListEntry } from '../cosem/object-list';
import { MethodAccess } from '../cosem/classes/types';
import { accessModeNumber, attributeIndexes, methodIndexes } from './access';
import type { ServerSession } from './contract';
import type { AccessPolicy, ActionOutcome, GetOutcome, RequestContext, ServerObject } from './object';
import { mechanismId } from './hls';
import { DLMS_VERSION } from './options';
import type { Association } from './state';

export const CURRENT_ASSOCIATION_OBIS: Obis = [0, 0, 40, 0, 0, 255];
const ASSOCIATION_STATUS_ASSOCIATED = 2;

/** Access selectors advertised per attribute: Profile generic buffer supports range and entry. */
function selectorsOf(object: ServerObject, attribute: number): readonly number[] | null {
  return object.classId === 7 && attribute === 2 ? [1, 2] : null;
}

/** One object_list entry as `policy` sees `object`; undefined when the client may use nothing of it. */
export function objectListEntry(object: ServerObject, policy: AccessPolicy): ObjectListEntry | undefined {
  const attributeAccess = attributeIndexes(object).map((index) => ({
    index,
    mode: accessModeNumber(policy.attribute(object, index)),
    selectors: selectorsOf(object, index),
  }));
  const methodAccess = methodIndexes(object).map((index) => ({
    index,
    mode: policy.method(object, index) ? MethodAccess.access : MethodAccess.noAccess,
  }));
  if (attributeAccess.every((a) => a.mode === 0) && methodAccess.every((m) => m.mode === 0)) return undefined;
  return { classId: object.classId, version: object.version, obis: object.obis, attributeAccess, methodAccess };
}

/** object_list Data for a client: every object it can use, in model order. */
export function objectListFor(objects: readonly ServerObject[], policy: AccessPolicy): Data {
  const entries: ObjectListEntry[] = [];
  for (const o of objects) {
    const e = objectListEntry(o, policy);
    if (e !== undefined) entries.push(e);
  }
  return encodeObjectList(entries);
}

const u8 = (value: number): Data => ({ type: 'uint8', value });

function oidStructure(arc6: number, id: number): Data {
  return { type: 'structure', items: [u8(2), u8(16), { type: 'uint16', value: 756 }, u8(5), u8(8), u8(arc6), u8(id)] };
}

export interface AssociationLnView {
  /** The session's association, if one is established. */
  association(session: ServerSession): Association | undefined;
  /** Every object of the logical device, this one included, in object_list order. */
  objects(): readonly ServerObject[];
  /** Context and mechanism ids of a secured association (3 = ln-ciphering, 5 = hls-gmac, 6 = hls-sha256); absent: from the association. */
  names?(session: ServerSession): { readonly context: number; readonly mechanism: number } | undefined;
}

export class AssociationLnObject implements ServerObject {
  readonly classId = 15;
  readonly version = 2;
  readonly obis: Obis = CURRENT_ASSOCIATION_OBIS;

  constructor(
    private readonly view: AssociationLnView,
    /** Server SAP reported in associated_partners_id. */
    private readonly logicalDevice = 1,
  ) {}

  get(attribute: number, ctx: RequestContext): GetOutcome {
    const a = this.view.association(ctx.session);
    if (a === undefined) return { ok: false, result: DataAccessResult.objectUnavailable };
    const ok = (data: Data): GetOutcome => ({ ok: true, data });
    switch (attribute) {
      case 2:
        return ok(objectListFor(this.view.objects(), a.client.access));
      case 3:
        return ok({ type: 'structure', items: [{ type: 'int8', value: ctx.clientAddress }, { type: 'uint16', value: this.logicalDevice }] });
      case 4:
        return ok(oidStructure(1, this.view.names?.(ctx.session)?.context ?? 1));
      case 5: {
        const c = conformanceToNumber(a.conformance);
        return ok({
          type: 'structure',
          items: [
            { type: 'bit-string', length: 24, value: Uint8Array.of(c >>> 16, (c >>> 8) & 0xff, c & 0xff) },
            { type: 'uint16', value: a.clientMaxReceivePduSize },
            { type: 'uint16', value: a.maxSendPduSize },
            u8(DLMS_VERSION),
            { type: 'int8', value: 0 },
            { type: 'octet-string', value: new Uint8Array(0) },
          ],
        });
      }
      case 6:
        return ok(oidStructure(2, this.view.names?.(ctx.session)?.mechanism ?? mechanismId(a.mechanism)));
      case 8:
        return ok({ type: 'enum', value: ASSOCIATION_STATUS_ASSOCIATED });
      case 9: {
        // security_setup_reference: the Security setup object of this association.
        const instance = a.client.security?.instance ?? 0;
        return ok({ type: 'octet-string', value: Uint8Array.of(0, 0, 43, 0, instance, 255) });
      }
      case 10:
        // user_list: no user identification on this meter.
        return ok({ type: 'array', items: [] });
      case 11:
        // current_user: {user_id, user_name}, none.
        return ok({ type: 'structure', items: [u8(0), { type: 'visible-string', value: '' }] });
      default:
        return { ok: false, result: DataAccessResult.readWriteDenied };
    }
  }

  set(): DataAccessResult {
    return DataAccessResult.readWriteDenied;
  }

  action(): ActionOutcome {
    // reply_to_HLS_authentication is answered by the server while HLS is pending; after it,
    // and for other clients, there is nothing to authenticate.
    return { result: ActionResult.objectUnavailable };
  }
}
