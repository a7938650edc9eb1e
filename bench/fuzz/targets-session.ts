/**
 * Fuzz targets of the association's set-up and of the GBT server, each aimed at one field so
 * that mutations reach it instead of dying at the outer framing:
 * - hdlc-params: the SNRM/UA parameter field, decoded, negotiated both ways, and sent to a
 *   real meter station (SNRM) and a real client link (UA). The negotiated values must stay in
 *   range (1..2030, 1..7, no more than either side offered) and the frames that follow must
 *   respect them.
 * - initiate: the InitiateRequest/Response in user-information, decoded, inside an AARQ the
 *   meter answers (its AARE must decode, its answers keep to the negotiated PDU size) and
 *   inside an AARE the client checks.
 * - server-gbt: a GBT conversation with an associated meter (requests in blocks, out of
 *   order, streamed; acknowledgements, repeats); every answer must decode and stay within
 *   the association's PDU size.
 */
import { decodeApdu, encodeApdu, type Apdu } from '../../protocol/apdu';
import type { Aare } from '../../protocol/apdu/aarq';
import { conformance } from '../../protocol/apdu/conformance';
import { encodeUserInformation } from '../../protocol/apdu/initiate';
import { invokeIdAndPriority } from '../../protocol/apdu/invoke';
import { acceptAare, buildAarq } from '../../protocol/client/association';
import { FakeClock } from '../../protocol/common/clock';
import { isDcuError } from '../../protocol/common/errors';
import { clientAddress, serverAddress } from '../../protocol/hdlc/address';
import { decodeFrame, encodeFrame } from '../../protocol/hdlc/frame';
import { HdlcClientLink } from '../../protocol/hdlc/link';
import { decodeHdlcParameters, encodeHdlcParameters, MAX_INFO_LENGTH, MAX_WINDOW, negotiateForUa, negotiateFromUa, type HdlcParameters } from '../../protocol/hdlc/params';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { HdlcMeterStation } from '../../protocol/server';
import { createFuzzServer, FUZZ_OBIS } from './model';
import type { Rng } from './rng';

/** Not a DcuError on purpose: the runner reports it as a finding. */
class Invariant extends Error {
  override readonly name = 'InvariantBroken';
}

function tolerate<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!isDcuError(e)) throw e;
    return undefined;
  }
}

function randomParams(rng: Rng): HdlcParameters {
  const info = (): number => rng.pick([1, 32, 128, 255, 256, 1024, MAX_INFO_LENGTH, 1 + rng.int(MAX_INFO_LENGTH)]);
  return { maxInfoTx: info(), maxInfoRx: info(), windowTx: 1 + rng.int(MAX_WINDOW), windowRx: 1 + rng.int(MAX_WINDOW) };
}

function checkParams(p: HdlcParameters, bound: HdlcParameters, what: string): void {
  for (const k of ['maxInfoTx', 'maxInfoRx', 'windowTx', 'windowRx'] as const) {
    const max = k.startsWith('max') ? MAX_INFO_LENGTH : MAX_WINDOW;
    const v = p[k];
    if (!Number.isInteger(v) || v < 1 || v > max || v > bound[k]) throw new Invariant(`${what}: ${k} = ${v} (allowed 1..${Math.min(max, bound[k])})`);
  }
}

/** Frames in `bytes` (whatever the splitter finds). */
function framesOf(bytes: readonly Uint8Array[]): ReturnType<typeof decodeFrame>[] {
  const s = new HdlcSplitter();
  const out: ReturnType<typeof decodeFrame>[] = [];
  for (const b of bytes) for (const ev of s.push(b)) if (ev.type === 'frame') out.push(ev.frame);
  return out;
}

function drain(take: () => Uint8Array | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = take(); b !== undefined; b = take()) out.push(b);
  return out;
}

export const HDLC_PARAM_SEEDS = (): Uint8Array[] => [
  encodeHdlcParameters({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 }),
  encodeHdlcParameters({ maxInfoTx: 2030, maxInfoRx: 2030, windowTx: 7, windowRx: 7 }),
  encodeHdlcParameters({ maxInfoTx: 256, maxInfoRx: 1024, windowTx: 3, windowRx: 1 }),
  Uint8Array.of(0x81, 0x80, 0x0c, 0x05, 0x02, 0x07, 0xee, 0x06, 0x04, 0x00, 0x00, 0x07, 0xee, 0x07, 0x01, 0x07),
  Uint8Array.of(0x81, 0x80, 0x06, 0x05, 0x01, 0x80, 0x09, 0x01, 0x05),
  new Uint8Array(0),
];

function hdlcParams(input: Uint8Array, rng: Rng): void {
  const p = tolerate(() => decodeHdlcParameters(input));
  if (p !== undefined) {
    const limits = randomParams(rng);
    // The meter's grant: its own view, bounded by its limits and by what the SNRM offers (seen from the meter).
    const granted = negotiateForUa(p, limits);
    checkParams(granted, { maxInfoTx: Math.min(limits.maxInfoTx, p.maxInfoRx), maxInfoRx: Math.min(limits.maxInfoRx, p.maxInfoTx), windowTx: Math.min(limits.windowTx, p.windowRx), windowRx: Math.min(limits.windowRx, p.windowTx) }, 'negotiateForUa');
    encodeHdlcParameters(granted);
    const asked = randomParams(rng);
    const used = negotiateFromUa(asked, p);
    checkParams(used, { maxInfoTx: Math.min(asked.maxInfoTx, p.maxInfoRx), maxInfoRx: Math.min(asked.maxInfoRx, p.maxInfoTx), windowTx: Math.min(asked.windowTx, p.windowRx), windowRx: Math.min(asked.windowRx, p.windowTx) }, 'negotiateFromUa');
  }

  // The meter side: an SNRM carrying the field; the UA it answers must carry a grant within its limits.
  const limits = randomParams(rng);
  const clock = new FakeClock();
  const station = new HdlcMeterStation({ handler: createFuzzServer(clock), address: { logical: 1, size: 1 }, limits, clock });
  const snrm = encodeFrame({ dest: serverAddress(1), src: clientAddress(16), control: { kind: 'SNRM', pf: true }, segmented: false, info: input });
  tolerate(() => station.receive(snrm));
  for (const f of framesOf(drain(() => station.takeOutput()))) {
    if (f.control.kind !== 'UA') continue;
    const ua = tolerate(() => decodeHdlcParameters(f.info));
    if (ua === undefined) throw new Invariant(`the meter station sent a UA it cannot decode itself: ${Buffer.from(f.info).toString('hex')}`);
    checkParams(ua, limits, 'the meter station\'s UA');
  }
  station.dispose();

  // The client side: a UA carrying the field; once connected, its frames keep to what was negotiated.
  const asked = randomParams(rng);
  const link = new HdlcClientLink({ client: 16, server: serverAddress(1), clock, ...asked, responseTimeoutMs: 1000, retries: 0 });
  link.connect();
  drain(() => link.takeOutput());
  const ua = encodeFrame({ dest: clientAddress(16), src: serverAddress(1), control: { kind: 'UA', pf: true }, segmented: false, info: input });
  tolerate(() => link.receive(ua));
  while (link.takeEvent() !== undefined);
  if (link.state === 'connected') {
    const params = link.params;
    checkParams(params, asked, 'the client link after the UA');
    tolerate(() => link.sendApdu(new Uint8Array(3000).fill(0xc0)));
    const frames = framesOf(drain(() => link.takeOutput())).filter((f) => f.control.kind === 'I');
    if (frames.length > params.windowTx) throw new Invariant(`the client sent ${frames.length} I-frames in a row, window ${params.windowTx}`);
    for (const f of frames) if (f.info.length > params.maxInfoTx) throw new Invariant(`the client sent ${f.info.length} info bytes, negotiated ${params.maxInfoTx}`);
  }
  link.dispose();
}

export const INITIATE_SEEDS = (): Uint8Array[] => {
  const c = conformance('get', 'set', 'action', 'selective-access', 'block-transfer-with-get-or-read', 'general-block-transfer', 'multiple-references');
  return [
    encodeUserInformation({ kind: 'initiate-request', request: { responseAllowed: true, proposedDlmsVersion: 6, proposedConformance: c, clientMaxReceivePduSize: 128 } }),
    encodeUserInformation({ kind: 'initiate-request', request: { responseAllowed: false, proposedDlmsVersion: 6, proposedConformance: c, clientMaxReceivePduSize: 0xffff, proposedQualityOfService: 1 } }),
    encodeUserInformation({ kind: 'initiate-request', request: { dedicatedKey: new Uint8Array(16).fill(7), responseAllowed: true, proposedDlmsVersion: 6, proposedConformance: c, clientMaxReceivePduSize: 12 } }),
    encodeUserInformation({ kind: 'initiate-response', response: { negotiatedDlmsVersion: 6, negotiatedConformance: c, serverMaxReceivePduSize: 256, vaaName: 7 } }),
    encodeUserInformation({ kind: 'initiate-response', response: { negotiatedQualityOfService: 0, negotiatedDlmsVersion: 6, negotiatedConformance: c, serverMaxReceivePduSize: 0, vaaName: 0xfa00 } }),
    Uint8Array.of(0x0e, 0x01, 0x06, 0x01),
  ];
};

const GET_LONG: Apdu = { type: 'get-request', kind: 'normal', invoke: invokeIdAndPriority(1), attribute: { classId: 1, instanceId: Uint8Array.from(FUZZ_OBIS.longData), attributeId: 2 } };
const GET_REGISTER: Apdu = { type: 'get-request', kind: 'normal', invoke: invokeIdAndPriority(2), attribute: { classId: 3, instanceId: Uint8Array.from(FUZZ_OBIS.register), attributeId: 2 } };

function initiate(input: Uint8Array, rng: Rng): void {
  const aarq = { ...buildAarq({ authentication: { mechanism: 'none' }, maxPduSize: 128, gbt: { enabled: rng.chance(0.5) } }), userInformation: { kind: 'raw', bytes: input } as const };
  const server = createFuzzServer(new FakeClock(), rng.chance(0.5));
  const session = { id: 'initiate', clientAddress: 16 };
  const bytes = tolerate(() => encodeApdu(aarq));
  if (bytes !== undefined) {
    tolerate(() => decodeApdu(bytes));
    const answer = tolerate(() => server.handle(bytes, session));
    if (answer !== undefined) {
      const aare = decodeOwn(answer, 'the AARE');
      const asked = tolerate(() => decodeApdu(bytes));
      const clientMax = asked?.type === 'aarq' && asked.userInformation?.kind === 'initiate-request' ? asked.userInformation.request.clientMaxReceivePduSize : undefined;
      if (aare.type === 'aare' && aare.result === 'accepted' && clientMax !== undefined && clientMax >= 64) {
        for (const get of [GET_REGISTER, GET_LONG]) {
          const a = tolerate(() => server.handle(encodeApdu(get), session));
          if (a === undefined) continue;
          decodeOwn(a, 'the GET answer');
          if (a.length > clientMax) throw new Invariant(`the meter answered ${a.length} bytes to a client that receives at most ${clientMax}`);
        }
      }
    }
  }
  // The client side: an AARE carrying the field.
  const aare: Aare = { type: 'aare', applicationContext: 'ln', result: 'accepted', diagnostic: { source: 'acse-service-user', value: 0 }, userInformation: { kind: 'raw', bytes: input } };
  const aareBytes = tolerate(() => encodeApdu(aare));
  if (aareBytes !== undefined) {
    const decoded = tolerate(() => decodeApdu(aareBytes));
    if (decoded?.type === 'aare') tolerate(() => acceptAare(decoded, { maxPduSize: 128 }));
  }
}

/** An APDU this stack made itself must decode. */
function decodeOwn(bytes: Uint8Array, what: string): Apdu {
  try {
    return decodeApdu(bytes);
  } catch (e) {
    throw new Invariant(`${what} the meter sent does not decode (${e instanceof Error ? e.message : String(e)}): ${Buffer.from(bytes).toString('hex').slice(0, 200)}`);
  }
}

/** A GBT script: APDUs, each as u16 length + bytes. */
function script(apdus: readonly Apdu[]): Uint8Array {
  const parts = apdus.map((a) => encodeApdu(a));
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

function unscript(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length; ) {
    const n = ((input[at] ?? 0) << 8) | (input[at + 1] ?? 0);
    out.push(input.subarray(at + 2, at + 2 + n));
    at += 2 + n;
  }
  return out;
}

const gbt = (blockNumber: number, blockNumberAck: number, data: Uint8Array, lastBlock = true, streaming = false, window = 7): Apdu => ({ type: 'general-block-transfer', lastBlock, streaming, window, blockNumber, blockNumberAck, data });
const acks = (from: number, count: number, step: number, window = 7): Apdu[] => Array.from({ length: count }, (_, i) => gbt(from + i, (i + 1) * step, new Uint8Array(0), false, false, window));

export const GBT_SEEDS = (): Uint8Array[] => {
  const long = encodeApdu(GET_LONG);
  const third = Math.ceil(long.length / 3);
  const parts = [long.subarray(0, third), long.subarray(third, 2 * third), long.subarray(2 * third)];
  return [
    script([gbt(1, 0, long), ...acks(2, 12, 7)]),
    script([gbt(1, 0, parts[0] ?? long, false, true), gbt(2, 0, parts[1] ?? long, false, true), gbt(3, 0, parts[2] ?? long), ...acks(4, 12, 7)]),
    script([gbt(2, 0, parts[1] ?? long, false, false), gbt(1, 0, parts[0] ?? long, false, false), gbt(3, 0, parts[2] ?? long), ...acks(4, 8, 3, 3)]),
    script([GET_LONG, ...acks(1, 10, 1, 1), GET_REGISTER]),
    script([gbt(1, 0, long, true, false, 2), gbt(2, 0, new Uint8Array(0), false, false, 2), gbt(3, 0, new Uint8Array(0), false, false, 2), gbt(4, 1, new Uint8Array(0), false, false, 63)]),
    script([gbt(1, 0, encodeApdu(GET_REGISTER)), gbt(1, 0, long), ...acks(2, 6, 0)]),
  ];
};

const MAX_PDU = 128;

function serverGbt(input: Uint8Array, rng: Rng): void {
  const server = createFuzzServer(new FakeClock(), true, 256);
  const session = { id: 'gbt', clientAddress: 16 };
  const aare = server.handle(encodeApdu(buildAarq({ authentication: { mechanism: 'none' }, maxPduSize: MAX_PDU, gbt: { enabled: true } })), session);
  if (aare === undefined || decodeOwn(aare, 'the AARE').type !== 'aare') throw new Invariant('the GBT meter did not answer the AARQ');
  const burst = rng.chance(0.5) ? Number.POSITIVE_INFINITY : 1 + rng.int(8);
  for (const apdu of unscript(input)) {
    const answers = tolerate(() => server.handleBurst(apdu, session, burst)) ?? [];
    if (answers.length > Math.min(63, burst)) throw new Invariant(`${answers.length} answers to one request (burst limit ${burst}, window at most 63)`);
    for (const a of answers) {
      decodeOwn(a, 'a GBT answer');
      if (a.length > MAX_PDU) throw new Invariant(`an answer of ${a.length} bytes in an association of max PDU ${MAX_PDU}`);
    }
  }
}

export const SESSION_TARGETS = [
  { name: 'hdlc-params', seeds: HDLC_PARAM_SEEDS, run: hdlcParams },
  { name: 'initiate', seeds: INITIATE_SEEDS, run: initiate },
  { name: 'server-gbt', seeds: GBT_SEEDS, run: serverGbt },
] as const;
