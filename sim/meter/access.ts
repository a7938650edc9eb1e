/**
 * Who may do what on the simulated meter, by client address (the usual DLMS convention):
 *
 * | client | role       | authentication (spec.credentials)  | access                                                    |
 * |--------|------------|------------------------------------|-----------------------------------------------------------|
 * | 16     | public     | as configured (usually none)       | read: association, clock, LDN, serial, firmware id, ±A ±R, invocation counters |
 * | 1      | management | as configured (HLS-GMAC by default) | class-table access, every method                         |
 * | other  | reader     | as configured (usually LLS)        | read everything, write nothing                             |
 *
 * A credential with auth 'high' is HLS-GMAC with suite 0 keys (SIM_KEYS unless configured)
 * and the meter's system title "DCU" + index. 'high-sha256' is HLS-SHA256 with its secret
 * (text or hex:HEX): on a plain LN context by default, ciphered with suite 0 keys when its
 * policy is auth, enc or auth-enc.
 */
import { getClass } from '../../protocol/cosem/classes';
import { obisEquals } from '../../protocol/cosem/obis';
import { canReadMode, classTablePolicy } from '../../protocol/server/access';
import { CURRENT_ASSOCIATION_OBIS } from '../../protocol/server/association-ln';
import type { AccessPolicy, AttributeAccessMode, ClientAssociationConfig, ServerObject, ServerSecuritySetup } from '../../protocol/server/object';
import { fromHex } from '../../protocol/common/hex';
import { SIM_KEYS, type ClientCredential } from '../types';
import { METER_OBJECTS, type MeterObjectKey } from './objects';

export type ClientRole = 'public' | 'reader' | 'management';

export function roleOf(clientAddress: number): ClientRole {
  if (clientAddress === 16) return 'public';
  if (clientAddress === 1) return 'management';
  return 'reader';
}

const is = (o: ServerObject, key: MeterObjectKey): boolean => o.classId === METER_OBJECTS[key].classId && obisEquals(o.obis, METER_OBJECTS[key].obis);
const isAssociation = (o: ServerObject): boolean => o.classId === 15 && obisEquals(o.obis, CURRENT_ASSOCIATION_OBIS);
/** Frame/invocation counters 0.0.43.1.x.255: public, so an HLS client can resynchronise its counter. */
const isInvocationCounter = (o: ServerObject): boolean => o.classId === 1 && o.obis[0] === 0 && o.obis[1] === 0 && o.obis[2] === 43 && o.obis[3] === 1 && o.obis[5] === 255;

const PUBLIC_KEYS: readonly MeterObjectKey[] = ['clock', 'logicalDeviceName', 'serialNumber', 'firmwareId', 'activeImport', 'activeExport', 'reactiveImport', 'reactiveExport'];

/** Attributes the class table describes (readable ones only). */
function readable(o: ServerObject, attribute: number): boolean {
  return canReadMode(classTablePolicy.attribute(o, attribute)) || (getClass(o.classId, o.version) === undefined && attribute === 1);
}

/** Read-only objects whatever the table says (their value is the meter's, not the client's). */
const FIXED_KEYS: readonly MeterObjectKey[] = ['logicalDeviceName', 'serialNumber', 'firmwareId', 'profileStatus', 'standardEventCode', 'powerFailureEventCode'];

export const publicPolicy: AccessPolicy = {
  attribute: (o, a) => ((isAssociation(o) || isInvocationCounter(o) || PUBLIC_KEYS.some((k) => is(o, k))) && readable(o, a) ? 'read' : 'none'),
  method: () => false,
};

/** The reading client (LLS) is read-only, as in utility deployments: clock and firmware need HLS. */
export const readerPolicy: AccessPolicy = {
  attribute: (o, a): AttributeAccessMode => (readable(o, a) ? 'read' : 'none'),
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
export function clientConfigs(credentials: readonly ClientCredential[], systemTitle: Uint8Array): ClientAssociationConfig[] {
  const te = new TextEncoder();
  return credentials.map((c): ClientAssociationConfig => {
    const access = policyFor(roleOf(c.client));
    if (c.auth === 'none') return { clientAddress: c.client, authentication: { mechanism: 'none' }, access };
    if (c.auth === 'low') return { clientAddress: c.client, authentication: { mechanism: 'low', password: te.encode(c.password ?? '') }, access };
    const security = (policy: NonNullable<ClientCredential['policy']>): ServerSecuritySetup => ({
      policy,
      systemTitle,
      blockKey: fromHex(c.blockKey ?? SIM_KEYS.blockKey),
      authKey: fromHex(c.authKey ?? SIM_KEYS.authKey),
      masterKey: fromHex(c.masterKey ?? SIM_KEYS.masterKey),
    });
    if (c.auth === 'high-sha256') {
      const policy = c.policy ?? 'none';
      return {
        clientAddress: c.client,
        authentication: { mechanism: 'high-sha256', secret: secretBytes(c.secret ?? ''), systemTitle },
        access,
        ...(policy === 'none' ? {} : { security: security(policy) }),
      };
    }
    return { clientAddress: c.client, authentication: { mechanism: 'high-gmac' }, access, security: security(c.policy ?? 'auth-enc') };
  });
}

/** An HLS-SHA256 secret as configured: text (UTF-8 bytes) or hex:HEX. */
export function secretBytes(text: string): Uint8Array {
  return /^hex:/i.test(text) ? fromHex(text.slice(4)) : new TextEncoder().encode(text);
}

