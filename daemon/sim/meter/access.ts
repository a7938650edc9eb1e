/**
 * Who may do what on the simulated meter, by client address (the usual DLMS convention):
 *
 * | client | role       | authentication (spec.credentials)  | access                                                    |
 * |--------|------------|------------------------------------|-----------------------------------------------------------|
 * | 16     | public     | as configured (usually none)       | read: association, clock, LDN, serial, firmware id, ±A ±R  |
 * | 1      | management | as configured ('high' accepted as LLS for now) | class-table access, every method          |
 * | other  | reader     | as configured (usually LLS)        | read everything, write clock time                          |
 *
 * HLS ('high') is not implemented by the server yet: such a credential is served as LLS with
 * the same password, so a client configured for HLS must use LLS against the simulator.
 */
import { getClass } from '../../../protocol/cosem/classes';
import { obisEquals } from '../../../protocol/cosem/obis';
import { canReadMode, classTablePolicy } from '../../../protocol/server/access';
import { CURRENT_ASSOCIATION_OBIS } from '../../../protocol/server/association-ln';
import type { AccessPolicy, AttributeAccessMode, ClientAssociationConfig, ServerObject } from '../../../protocol/server/object';
import type { ClientCredential } from '../types';
import { METER_OBJECTS, type MeterObjectKey } from './objects';

export type ClientRole = 'public' | 'reader' | 'management';

export function roleOf(clientAddress: number): ClientRole {
  if (clientAddress === 16) return 'public';
  if (clientAddress === 1) return 'management';
  return 'reader';
}

const is = (o: ServerObject, key: MeterObjectKey): boolean => o.classId === METER_OBJECTS[key].classId && obisEquals(o.obis, METER_OBJECTS[key].obis);
const isAssociation = (o: ServerObject): boolean => o.classId === 15 && obisEquals(o.obis, CURRENT_ASSOCIATION_OBIS);

const PUBLIC_KEYS: readonly MeterObjectKey[] = ['clock', 'logicalDeviceName', 'serialNumber', 'firmwareId', 'activeImport', 'activeExport', 'reactiveImport', 'reactiveExport'];

/** Attributes the class table describes (readable ones only). */
function readable(o: ServerObject, attribute: number): boolean {
  return canReadMode(classTablePolicy.attribute(o, attribute)) || (getClass(o.classId, o.version) === undefined && attribute === 1);
}

/** Read-only objects whatever the table says (their value is the meter's, not the client's). */
const FIXED_KEYS: readonly MeterObjectKey[] = ['logicalDeviceName', 'serialNumber', 'firmwareId', 'profileStatus', 'standardEventCode', 'powerFailureEventCode'];

export const publicPolicy: AccessPolicy = {
  attribute: (o, a) => ((isAssociation(o) || PUBLIC_KEYS.some((k) => is(o, k))) && readable(o, a) ? 'read' : 'none'),
  method: () => false,
};

export const readerPolicy: AccessPolicy = {
  attribute(o, a): AttributeAccessMode {
    if (!readable(o, a)) return 'none';
    return is(o, 'clock') && a === 2 ? 'read-write' : 'read';
  },
  method: () => false,
};

export const managementPolicy: AccessPolicy = {
  attribute(o, a): AttributeAccessMode {
    const mode = classTablePolicy.attribute(o, a);
    if (FIXED_KEYS.some((k) => is(o, k)) && mode === 'read-write') return 'read';
    return mode;
  },
  method: () => true,
};

export function policyFor(role: ClientRole): AccessPolicy {
  return role === 'public' ? publicPolicy : role === 'reader' ? readerPolicy : managementPolicy;
}

/** The server's client configurations for a meter's credentials. */
export function clientConfigs(credentials: readonly ClientCredential[]): ClientAssociationConfig[] {
  const te = new TextEncoder();
  return credentials.map((c) => ({
    clientAddress: c.client,
    authentication: c.auth === 'none' ? { mechanism: 'none' } : { mechanism: 'low', password: te.encode(c.password ?? '') },
    access: policyFor(roleOf(c.client)),
  }));
}

