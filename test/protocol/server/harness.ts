/** A minimal scripted client for server tests: builds request APDUs, decodes answers. */
import { type Apdu, decodeApdu, encodeApdu } from '../../../protocol/apdu';
import type { Aare } from '../../../protocol/apdu/aarq';
import { type Conformance, type ConformanceBit, conformance } from '../../../protocol/apdu/conformance';
import type { AccessSelection, AttributeDescriptor, MethodDescriptor } from '../../../protocol/apdu/descriptors';
import { invokeIdAndPriority } from '../../../protocol/apdu/invoke';
import type { MechanismName } from '../../../protocol/apdu/acse-values';
import type { Data } from '../../../protocol/axdr/data';
import { obisToBytes, parseObis } from '../../../protocol/cosem/obis';
import type { ApduHandler, ServerSession } from '../../../protocol/server/contract';
import { TRACE_CLIENT_CONFORMANCE } from '../../helpers/vector-apdus';

/** What the reference client proposes in the traces. */
export const ALL_CLIENT_BITS: ConformanceBit[] = [...TRACE_CLIENT_CONFORMANCE];

let n = 0;
export function session(clientAddress: number): ServerSession {
  n++;
  return { id: `test-${n}`, clientAddress };
}

export const INVOKE = invokeIdAndPriority(1);

/** Sends one APDU, decodes the answer (which must exist). */
export function call(server: ApduHandler, s: ServerSession, apdu: Apdu): Apdu {
  const out = server.handle(encodeApdu(apdu), s);
  if (out === undefined) throw new Error('no answer');
  return decodeApdu(out);
}

export function callRaw(server: ApduHandler, s: ServerSession, bytes: Uint8Array): { bytes: Uint8Array; apdu: Apdu } {
  const out = server.handle(bytes, s);
  if (out === undefined) throw new Error('no answer');
  return { bytes: out, apdu: decodeApdu(out) };
}

export interface AssociateOptions {
  readonly mechanism?: MechanismName;
  readonly password?: string;
  readonly conformance?: Conformance;
  readonly maxPdu?: number;
  readonly dlmsVersion?: number;
}

export function aarq(o: AssociateOptions = {}): Apdu {
  return {
    type: 'aarq',
    applicationContext: 'ln',
    ...(o.mechanism === undefined ? {} : { acseRequirements: { authentication: true }, mechanism: o.mechanism }),
    ...(o.password === undefined ? {} : { callingAuthenticationValue: new TextEncoder().encode(o.password) }),
    userInformation: {
      kind: 'initiate-request',
      request: {
        responseAllowed: true,
        proposedDlmsVersion: o.dlmsVersion ?? 6,
        proposedConformance: o.conformance ?? conformance(...ALL_CLIENT_BITS),
        clientMaxReceivePduSize: o.maxPdu ?? 0xffff,
      },
    },
  };
}

export function associate(server: ApduHandler, s: ServerSession, o: AssociateOptions = {}): Aare {
  const a = call(server, s, aarq(o));
  if (a.type !== 'aare') throw new Error(`expected AARE, got ${a.type}`);
  return a;
}

export function attr(classId: number, obis: string, attributeId: number): AttributeDescriptor {
  return { classId, instanceId: obisToBytes(parseObis(obis)), attributeId };
}

export function meth(classId: number, obis: string, methodId: number): MethodDescriptor {
  return { classId, instanceId: obisToBytes(parseObis(obis)), methodId };
}

export function get(d: AttributeDescriptor, access?: AccessSelection): Apdu {
  return access === undefined
    ? { type: 'get-request', kind: 'normal', invoke: INVOKE, attribute: d }
    : { type: 'get-request', kind: 'normal', invoke: INVOKE, attribute: d, access };
}

export function getNext(blockNumber: number): Apdu {
  return { type: 'get-request', kind: 'next', invoke: INVOKE, blockNumber };
}

export function set(d: AttributeDescriptor, value: Data): Apdu {
  return { type: 'set-request', kind: 'normal', invoke: INVOKE, attribute: d, value };
}

export function action(m: MethodDescriptor, parameters?: Data): Apdu {
  return parameters === undefined
    ? { type: 'action-request', kind: 'normal', invoke: INVOKE, method: m }
    : { type: 'action-request', kind: 'normal', invoke: INVOKE, method: m, parameters };
}
