import type { ActionResult, DataAccessResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import type { Obis } from '../cosem/obis';
import type { SecurityPolicy } from '../security/security-control';
import type { ServerSession } from './contract';

/**
 * The meter's COSEM objects as the server sees them. The server (association, services,
 * blocks, access rights) is generic; a meter model (the simulator's, or a test's) supplies
 * objects through this interface.
 */

/** Who is asking, and when (meter time, from the meter's injected clock). */
export interface RequestContext {
  readonly session: ServerSession;
  readonly clientAddress: number;
  /** Meter time in epoch ms. */
  readonly now: number;
}

/** Access selection as it arrived (selector 1 = range, 2 = entry for profiles). */
export interface Selection {
  readonly selector: number;
  readonly parameters: Data;
}

export type GetOutcome = { readonly ok: true; readonly data: Data } | { readonly ok: false; readonly result: DataAccessResult };

export interface ActionOutcome {
  readonly result: ActionResult;
  /** Return parameters (e.g. the meter's HLS answer for Association LN method 1). */
  readonly returnValue?: Data;
}

export interface ServerObject {
  readonly classId: number;
  readonly version: number;
  readonly obis: Obis;
  /**
   * Optional: the attribute / method indexes the object has, for classes the cosem tables do
   * not describe (or objects implementing fewer). Absent: taken from the class table.
   * Used for existence checks and for object_list.
   */
  readonly attributeIds?: readonly number[];
  readonly methodIds?: readonly number[];
  /** Reads attribute `attribute` (1 = logical_name is served by the server itself if absent here). */
  get(attribute: number, ctx: RequestContext, selection?: Selection): GetOutcome;
  /** Writes an attribute; the server has already checked access rights. */
  set(attribute: number, value: Data, ctx: RequestContext): DataAccessResult;
  /** Invokes a method; the server has already checked access rights. */
  action(method: number, parameters: Data | undefined, ctx: RequestContext): ActionOutcome;
}

/** Access per client association: what an object list advertises and the server enforces. */
export type AttributeAccessMode = 'none' | 'read' | 'write' | 'read-write';

export interface AccessPolicy {
  attribute(object: ServerObject, attribute: number): AttributeAccessMode;
  method(object: ServerObject, method: number): boolean;
}

/**
 * The meter's security setup (class 64) a client association uses: security suite 0 keys,
 * the policy its xDLMS APDUs need, the meter's system title. Clients naming the same
 * `instance` share one setup (keys, counters): 0.0.43.0.<instance>.255 and its invocation
 * counter object 0.0.43.1.<instance>.255.
 */
export interface ServerSecuritySetup {
  /** 'none' keeps the plain LN context (HLS-GMAC still checks the keys); otherwise ln-ciphering is required. */
  readonly policy: SecurityPolicy;
  /** The meter's system title (8 bytes): responding AP title and IV prefix of its APDUs. */
  readonly systemTitle: Uint8Array;
  /** Global unicast encryption key (16 bytes). */
  readonly blockKey: Uint8Array;
  /** Authentication key (16 bytes). */
  readonly authKey: Uint8Array;
  /** Master key (KEK) for global_key_transfer; without it key transfer is refused. */
  readonly masterKey?: Uint8Array;
  /** Security setup instance (default 0). */
  readonly instance?: number;
  /** When set, the AARQ's calling AP title must be this client system title. */
  readonly clientSystemTitle?: Uint8Array;
  /** First invocation counter the meter uses for its own APDUs (default 1). */
  readonly invocationCounter?: number;
}

/** What authenticates a client address, and what it may do once associated. */
export interface ClientAssociationConfig {
  readonly clientAddress: number;
  /**
   * 'high-gmac' needs `security` (HLS-GMAC keys). 'high-sha256' (HLS mechanism 6) proves a
   * shared secret, with `security` (ciphering, the meter's system title from it) or without
   * (plain LN context; `systemTitle` is then the meter's system title, required).
   */
  readonly authentication:
    | { readonly mechanism: 'none' }
    | { readonly mechanism: 'low'; readonly password: Uint8Array }
    | { readonly mechanism: 'high-gmac' }
    | { readonly mechanism: 'high-sha256'; readonly secret: Uint8Array; readonly systemTitle?: Uint8Array };
  readonly access: AccessPolicy;
  /** Security suite 0 for this client: ciphering policy and keys (absent: plain LN only). */
  readonly security?: ServerSecuritySetup;
}

export interface ObjectModel {
  find(classId: number, obis: Obis): ServerObject | undefined;
  /** Objects in object-list order. */
  objects(): readonly ServerObject[];
}
