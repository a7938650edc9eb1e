/**
 * Valid inputs to mutate, made with our own encoders and a real conversation with the fuzz
 * meter (createFuzzServer): every APDU both ways, ciphered ones, A-XDR values, object list and
 * profile buffers, HDLC and wrapper streams. The jest run adds the trace vectors on top.
 */
import { encodeApdu, type Apdu } from '../../protocol/apdu';
import { invokeIdAndPriority } from '../../protocol/apdu/invoke';
import { encodeData } from '../../protocol/axdr/codec';
import type { Data } from '../../protocol/axdr/data';
import { buildAarq } from '../../protocol/client/association';
import { FakeClock } from '../../protocol/common/clock';
import { clientAddress, serverAddress } from '../../protocol/hdlc/address';
import { encodeFrame } from '../../protocol/hdlc/frame';
import type { HdlcControl } from '../../protocol/hdlc/control';
import { encodeHdlcParameters } from '../../protocol/hdlc/params';
import { cipherApdu } from '../../protocol/security/ciphered-apdu';
import { encodeWrapper } from '../../protocol/wrapper/codec';
import { createFuzzServer, FUZZ_MANAGEMENT, FUZZ_OBIS, fuzzObjectList, fuzzProfileBuffer } from './model';

export interface Corpus {
  /** Plain xDLMS/ACSE APDUs, requests and responses. */
  readonly apdus: readonly Uint8Array[];
  /** Ciphered APDUs made with CIPHER_KEYS. */
  readonly ciphered: readonly Uint8Array[];
  /** A-XDR Data encodings (every type, nested, compact-array). */
  readonly data: readonly Uint8Array[];
  /** BER: AARQ, AARE. */
  readonly ber: readonly Uint8Array[];
  readonly objectLists: readonly Uint8Array[];
  readonly profiles: readonly Uint8Array[];
  /** HDLC frame streams (client → meter and meter → client). */
  readonly hdlc: readonly Uint8Array[];
  readonly wrapper: readonly Uint8Array[];
  /** Client conversations for the meter side: SNRM, AARQ, requests … as HDLC bytes. */
  readonly serverHdlc: readonly Uint8Array[];
  /** The same as wrapper frames. */
  readonly serverWrapper: readonly Uint8Array[];
}

export const CIPHER_KEYS = {
  systemTitle: new TextEncoder().encode('FUZZMETR'),
  blockKey: Uint8Array.from({ length: 16 }, (_, i) => i),
  authKey: Uint8Array.from({ length: 16 }, (_, i) => 0xd0 + i),
};

const LLC_REQUEST = [0xe6, 0xe6, 0x00];
const LLC_RESPONSE = [0xe6, 0xe7, 0x00];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sampleData(): Data[] {
  const dt = { year: 2026, month: 1, day: 2, dayOfWeek: 5, hour: 3, minute: 4, second: 5, hundredths: null, deviation: -60, clockStatus: 0 };
  return [
    { type: 'null' },
    { type: 'boolean', value: true },
    { type: 'bit-string', length: 12, value: Uint8Array.of(0xab, 0xc0) },
    { type: 'int32', value: -5 },
    { type: 'uint32', value: 123456 },
    { type: 'octet-string', value: Uint8Array.from({ length: 140 }, (_, i) => i) },
    { type: 'visible-string', value: 'FUZZ-0001' },
    { type: 'utf8-string', value: 'Zähler' },
    { type: 'bcd', value: 0x12 },
    { type: 'int64', value: -1n },
    { type: 'uint64', value: 1n << 40n },
    { type: 'float32', value: 1.5 },
    { type: 'float64', value: -2.25 },
    { type: 'date-time', value: dt },
    { type: 'date', value: { year: 2026, month: 1, day: 2, dayOfWeek: null } },
    { type: 'time', value: { hour: 1, minute: 2, second: 3, hundredths: null } },
    { type: 'structure', items: [{ type: 'int8', value: -1 }, { type: 'enum', value: 30 }, { type: 'array', items: [{ type: 'uint16', value: 7 }] }] },
    { type: 'compact-array', element: { type: 'uint16' }, items: [1, 2, 3].map((value) => ({ type: 'uint16', value })) },
    {
      type: 'compact-array',
      element: { type: 'structure', elements: [{ type: 'uint8' }, { type: 'array', count: 2, element: { type: 'int16' } }] },
      items: [
        { type: 'structure', items: [{ type: 'uint8', value: 1 }, { type: 'array', items: [{ type: 'int16', value: -1 }, { type: 'int16', value: 2 }] }] },
      ],
    },
  ];
}

/** What the client sends in one association (public or management client). */
function requests(management: boolean, gbt: boolean): Uint8Array[] {
  const inv = invokeIdAndPriority(1);
  const aarq = buildAarq({
    authentication: management ? { mechanism: 'low', password: FUZZ_MANAGEMENT.password } : { mechanism: 'none' },
    maxPduSize: 128,
    gbt: { enabled: gbt },
  });
  const attr = (obis: readonly number[], attributeId: number) => ({ classId: obis === FUZZ_OBIS.profile ? 7 : obis === FUZZ_OBIS.longData ? 1 : 3, instanceId: Uint8Array.from(obis), attributeId });
  const apdus: Apdu[] = [
    aarq,
    { type: 'get-request', kind: 'normal', invoke: inv, attribute: attr(FUZZ_OBIS.register, 2) },
    { type: 'get-request', kind: 'normal', invoke: inv, attribute: attr(FUZZ_OBIS.longData, 2) },
    { type: 'get-request', kind: 'next', invoke: inv, blockNumber: 1 },
    { type: 'get-request', kind: 'next', invoke: inv, blockNumber: 2 },
    {
      type: 'get-request',
      kind: 'normal',
      invoke: inv,
      attribute: attr(FUZZ_OBIS.profile, 2),
      access: { selector: 2, parameters: { type: 'structure', items: [{ type: 'uint32', value: 1 }, { type: 'uint32', value: 3 }, { type: 'uint16', value: 1 }, { type: 'uint16', value: 0 }] } },
    },
    { type: 'get-request', kind: 'with-list', invoke: inv, attributes: [{ attribute: attr(FUZZ_OBIS.register, 2) }, { attribute: attr(FUZZ_OBIS.register, 3) }] },
    { type: 'set-request', kind: 'normal', invoke: inv, attribute: attr(FUZZ_OBIS.register, 2), value: { type: 'uint32', value: 7 } },
    { type: 'action-request', kind: 'normal', invoke: inv, method: { classId: 3, instanceId: Uint8Array.from(FUZZ_OBIS.register), methodId: 1 }, parameters: { type: 'int8', value: 0 } },
  ];
  const out = apdus.map((a) => encodeApdu(a));
  if (gbt) {
    const get = out[1] ?? new Uint8Array(0);
    out.push(encodeApdu({ type: 'general-block-transfer', lastBlock: true, streaming: false, window: 7, blockNumber: 1, blockNumberAck: 0, data: get }));
  }
  out.push(encodeApdu({ type: 'rlrq', reason: 0 }));
  return out;
}

/** One APDU as consecutive I-frames of at most 128 bytes (LLC first). */
function iFrames(apdu: Uint8Array, llc: readonly number[], toMeter: boolean, seq: { ns: number; nr: number }): Uint8Array[] {
  const payload = concat([Uint8Array.from(llc), apdu]);
  const client = clientAddress(16);
  const server = serverAddress(1);
  const frames: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += 128) {
    const last = at + 128 >= payload.length;
    const control: HdlcControl = { kind: 'I', ns: seq.ns, nr: seq.nr, pf: last };
    seq.ns = (seq.ns + 1) % 8;
    const info = payload.subarray(at, at + 128);
    frames.push(encodeFrame({ dest: toMeter ? server : client, src: toMeter ? client : server, control, segmented: !last, info }));
  }
  return frames;
}

function control(kind: HdlcControl, info: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeFrame({ dest: serverAddress(1), src: clientAddress(16), control: kind, segmented: false, info });
}

let cached: Corpus | undefined;

export function buildCorpus(): Corpus {
  if (cached !== undefined) return cached;
  const clock = new FakeClock();
  const apdus: Uint8Array[] = [];
  const hdlc: Uint8Array[] = [];
  const wrapper: Uint8Array[] = [];
  const serverHdlc: Uint8Array[] = [];
  const serverWrapper: Uint8Array[] = [];
  const ber: Uint8Array[] = [];
  for (const management of [false, true]) {
    for (const gbt of [false, true]) {
      const server = createFuzzServer(clock, gbt, 256);
      const session = { id: `corpus-${management}-${gbt}`, clientAddress: management ? FUZZ_MANAGEMENT.clientAddress : 16 };
      const up = { ns: 0, nr: 0 };
      const down = { ns: 0, nr: 0 };
      const conversation: Uint8Array[] = [control({ kind: 'SNRM', pf: true }, encodeHdlcParameters({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 }))];
      const wrapped: Uint8Array[] = [];
      for (const request of requests(management, gbt)) {
        apdus.push(request);
        if (request[0] === 0x60) ber.push(request);
        conversation.push(...iFrames(request, LLC_REQUEST, true, up));
        wrapped.push(encodeWrapper({ source: session.clientAddress, destination: 1, apdu: request }));
        for (const answer of server.handleBurst(request, session)) {
          apdus.push(answer);
          if (answer[0] === 0x61) ber.push(answer);
          hdlc.push(concat(iFrames(answer, LLC_RESPONSE, false, down)));
          wrapper.push(encodeWrapper({ source: 1, destination: session.clientAddress, apdu: answer }));
          up.nr = down.ns;
        }
        conversation.push(control({ kind: 'RR', nr: up.nr, pf: true }));
      }
      conversation.push(control({ kind: 'DISC', pf: true }));
      hdlc.push(concat(conversation));
      serverHdlc.push(concat(conversation));
      serverWrapper.push(concat(wrapped));
      wrapper.push(concat(wrapped));
    }
  }
  const ciphered: Uint8Array[] = [];
  for (const plain of apdus.filter((a) => [0xc0, 0xc1, 0xc3, 0xc4, 0xc5, 0xc7].includes(a[0] ?? 0)).slice(0, 12)) {
    for (const policy of ['auth-enc', 'enc', 'auth'] as const) {
      for (const general of [false, true]) {
        ciphered.push(cipherApdu(plain, { ...CIPHER_KEYS, policy, invocationCounter: 5, general }));
      }
    }
  }
  const profiles = [encodeData(fuzzProfileBuffer(24)), encodeData(fuzzProfileBuffer(2))];
  const objectLists = [encodeData(fuzzObjectList())];
  const data = [...sampleData().map((d) => encodeData(d)), ...profiles, ...objectLists];
  cached = { apdus, ciphered, data, ber, objectLists, profiles, hdlc, wrapper, serverHdlc, serverWrapper };
  return cached;
}
