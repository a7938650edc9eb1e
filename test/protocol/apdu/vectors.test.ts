import { type Apdu, type GetResponse, decodeApdu, encodeApdu } from '../../../protocol/apdu';
import { decodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { ErrorCode } from '../../../protocol/common/errors';
import { concatBytes, toHex } from '../../../protocol/common/hex';
import { VECTOR_LOGS, type VectorApdu, vectorApdus, TRACE_CLIENT_CONFORMANCE } from '../../helpers/vector-apdus';

/**
 * The trace vectors (test/vectors): every plaintext APDU decodes, every client request
 * re-encodes byte for byte, block transfers reassemble into the Data the client printed.
 */

const obis = (...p: number[]): Uint8Array => Uint8Array.from(p);

function decodeAll(list: readonly VectorApdu[]): Apdu[] {
  return list.map((v) => decodeApdu(v.apdu));
}

/** Concatenate GET-with-datablock raw data from the response at `from` until the last block. */
function reassemble(apdus: readonly Apdu[], from: number): { data: Data; next: number } {
  const parts: Uint8Array[] = [];
  let expected = 1;
  for (let i = from; i < apdus.length; i++) {
    const a = apdus[i];
    if (a?.type !== 'get-response') continue;
    if (a.kind !== 'with-datablock' || a.result.kind !== 'raw') throw new Error(`APDU ${i} is not a block`);
    expect(a.blockNumber).toBe(expected++);
    parts.push(a.result.raw);
    if (a.lastBlock) return { data: decodeData(concatBytes(parts)), next: i + 1 };
  }
  throw new Error('no last block');
}

function normalData(a: Apdu | undefined): Data {
  if (a?.type !== 'get-response' || a.kind !== 'normal' || a.result.kind !== 'data') throw new Error('expected a normal GET response with data');
  return a.result.data;
}

/** The association view: array of {class u16, version u8, OBIS octets, access rights}. */
function checkObjectList(list: Data): Array<{ classId: number; obis: string }> {
  if (list.type !== 'array') throw new Error('object list is not an array');
  return list.items.map((item) => {
    if (item.type !== 'structure' || item.items.length !== 4) throw new Error('object list entry is not a 4-structure');
    const [cls, version, ln] = item.items;
    if (cls?.type !== 'uint16' || version?.type !== 'uint8' || ln?.type !== 'octet-string' || ln.value.length !== 6) throw new Error('bad entry');
    return { classId: cls.value, obis: Array.from(ln.value).join('.') };
  });
}

describe.each([
  ['none', VECTOR_LOGS.none],
  ['lls', VECTOR_LOGS.lls],
])('%s trace', (_label, file) => {
  const list = vectorApdus(file);
  const apdus = decodeAll(list);

  it('decodes every APDU and re-encodes every one byte for byte', () => {
    list.forEach((v, i) => {
      const a = apdus[i];
      expect(a).toBeDefined();
      expect(toHex(encodeApdu(a!))).toBe(toHex(v.apdu));
    });
    // Requests from the client, responses from the meter.
    list.forEach((v, i) => {
      const t = apdus[i]!.type;
      if (v.dir === 'TX') expect(['aarq', 'get-request', 'rlrq']).toContain(t);
      else expect(['aare', 'get-response', 'rlre']).toContain(t);
    });
  });

  it('associates: AARQ for LN, AARE accepted with an InitiateResponse', () => {
    const aarq = apdus[0];
    const aare = apdus[1];
    if (aarq?.type !== 'aarq' || aare?.type !== 'aare') throw new Error('expected AARQ then AARE');
    expect(aarq.applicationContext).toBe('ln');
    expect(aarq.userInformation?.kind).toBe('initiate-request');
    if (aarq.userInformation?.kind === 'initiate-request') {
      const req = aarq.userInformation.request;
      expect(req.proposedDlmsVersion).toBe(6);
      expect(req.clientMaxReceivePduSize).toBe(0xffff);
      expect(req.responseAllowed).toBe(true);
      expect([...req.proposedConformance].sort()).toEqual([...TRACE_CLIENT_CONFORMANCE].sort());
    }
    expect(aare.result).toBe('accepted');
    expect(aare.diagnostic).toEqual({ source: 'acse-service-user', value: 0 });
    if (aare.userInformation?.kind !== 'initiate-response') throw new Error('expected InitiateResponse');
    expect(aare.userInformation.response.negotiatedDlmsVersion).toBe(6);
    expect(aare.userInformation.response.serverMaxReceivePduSize).toBe(0x200);
    expect(aare.userInformation.response.vaaName).toBe(7);
  });

  it('reassembles the association view from 9 blocks', () => {
    const get = apdus[2];
    expect(get).toMatchObject({ type: 'get-request', kind: 'normal', attribute: { classId: 15, instanceId: obis(0, 0, 40, 0, 0, 255), attributeId: 2 } });
    const { data } = reassemble(apdus, 3);
    const objects = checkObjectList(data);
    expect(objects.length).toBe(0x34);
    expect(objects[0]).toEqual({ classId: 15, obis: '0.0.40.0.0.255' });
    expect(objects).toContainEqual({ classId: 8, obis: '0.0.1.0.0.255' });
    expect(objects).toContainEqual({ classId: 7, obis: '1.0.99.1.0.255' });
  });

  it('reads the clock as a 12-byte octet-string date-time', () => {
    const i = apdus.findIndex((a) => a.type === 'get-request' && a.kind === 'normal' && a.attribute.classId === 8);
    const clock = normalData(apdus[i + 1]);
    expect(clock.type).toBe('octet-string');
    if (clock.type === 'octet-string') expect(toHex(clock.value)).toBe('07EA0B17010E223600000000');
  });

  it('releases: RLRQ normal, RLRE normal', () => {
    expect(apdus.at(-2)).toEqual({ type: 'rlrq', reason: 0 });
    expect(apdus.at(-1)).toEqual({ type: 'rlre', reason: 0 });
  });
});

describe('LLS trace', () => {
  const apdus = decodeAll(vectorApdus(VECTOR_LOGS.lls));

  it('carries the password in the AARQ', () => {
    const aarq = apdus[0];
    if (aarq?.type !== 'aarq') throw new Error('expected AARQ');
    expect(aarq.mechanism).toBe('lls');
    expect(aarq.acseRequirements).toEqual({ authentication: true });
    expect(Buffer.from(aarq.callingAuthenticationValue ?? []).toString('latin1')).toBe('Gurux');
  });

  it('reads the load profile capture objects and buffer', () => {
    const idx = apdus.flatMap((a, i) => (a.type === 'get-request' && a.kind === 'normal' && a.attribute.classId === 7 ? [i] : []));
    expect(idx.length).toBe(2);
    const capture = normalData(apdus[idx[0]! + 1]);
    if (capture.type !== 'array') throw new Error('capture objects is not an array');
    expect(capture.items).toHaveLength(2);
    expect(capture.items[1]).toEqual({
      type: 'structure',
      items: [
        { type: 'uint16', value: 3 },
        { type: 'octet-string', value: obis(1, 1, 21, 25, 0, 255) },
        { type: 'int8', value: 2 },
        { type: 'uint16', value: 0 },
      ],
    });
    const buffer = normalData(apdus[idx[1]! + 1]);
    if (buffer.type !== 'array') throw new Error('buffer is not an array');
    const values = buffer.items.map((row) => (row.type === 'structure' && row.items[1]?.type === 'uint16' ? row.items[1].value : -1));
    expect(values).toEqual([26, 68, 110, 152, 197]);
  });
});

describe('HLS-GMAC trace', () => {
  const all = vectorApdus(VECTOR_LOGS.hls);
  // The simulated meter's last RLRE (63 24 80 01 00 BE 22 04 21 28 1F ...) is malformed: its
  // BER lengths were computed before the glo-initiate grew (BE says 34, 35 bytes follow; 63
  // says 36, 40 follow). It must fail cleanly; the client treats any 0x63 as "released".
  const list = all.slice(0, -1);
  const apdus = decodeAll(list);

  it('refuses the malformed RLRE with a typed length error', () => {
    const last = all.at(-1)!;
    expect(last.apdu[0]).toBe(0x63);
    expect(() => decodeApdu(last.apdu)).toThrow(expect.objectContaining({ name: 'DcuError', code: ErrorCode.DecodeBadLength, context: expect.objectContaining({ offset: 6 }) }));
  });

  it('decodes the plaintext APDUs and recognises the ciphered ones', () => {
    const types = apdus.map((a) => a.type);
    expect(types.slice(0, 4)).toEqual(['aarq', 'aare', 'get-request', 'get-response']);
    const cipheredTags = apdus.flatMap((a) => (a.type === 'ciphered' ? [a.tag] : []));
    expect(new Set(cipheredTags)).toEqual(new Set([0xcb, 0xcf, 0xdb]));
    // Every APDU the client sent re-encodes byte for byte.
    list.forEach((v, i) => expect(toHex(encodeApdu(apdus[i]!))).toBe(toHex(v.apdu)));
  });

  it('reads the invocation counter as the public client', () => {
    // The wire holds 0; the client's printout "Invocation counter: 1" is the next value it uses.
    expect(normalData(apdus[3] as GetResponse)).toEqual({ type: 'uint32', value: 0 });
  });

  it('carries glo-initiate raw in the ciphered AARQ/AARE and in the release', () => {
    const aarq = apdus[4];
    const aare = apdus[5];
    if (aarq?.type !== 'aarq' || aare?.type !== 'aare') throw new Error('expected AARQ then AARE');
    expect(aarq.applicationContext).toBe('ln-ciphering');
    expect(aarq.mechanism).toBe('hls-gmac');
    expect(Buffer.from(aarq.callingApTitle ?? []).toString('latin1')).toBe('Gurux123');
    expect(aarq.callingAuthenticationValue).toHaveLength(16);
    expect(aarq.userInformation?.kind).toBe('raw');
    if (aarq.userInformation?.kind === 'raw') expect(aarq.userInformation.bytes[0]).toBe(0x21);
    expect(aare.result).toBe('accepted');
    expect(aare.diagnostic).toEqual({ source: 'acse-service-user', value: 14 });
    expect(Buffer.from(aare.respondingApTitle ?? []).toString('latin1')).toBe('ABCDEFGH');
    expect(aare.mechanism).toBe('hls-gmac');
    expect(aare.respondingAuthenticationValue).toHaveLength(16);
    if (aare.userInformation?.kind !== 'raw') throw new Error('expected raw glo-initiate-response');
    expect(aare.userInformation.bytes[0]).toBe(0x28);
    expect(apdus.at(-1)).toMatchObject({ type: 'rlrq', reason: 0, userInformation: { kind: 'raw' } });
  });
});
