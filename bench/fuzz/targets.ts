/**
 * What the fuzz runner attacks: every decoder (synchronous, one input = one byte string), the
 * meter side (a DlmsServer behind its HDLC and wrapper stations, one input = one hostile byte
 * stream) and the client (one input = one association against a hostile meter on a FakeClock).
 */
import { decodeApdu } from '../../protocol/apdu';
import { decodeBerElement, readBerChildren, type BerElement } from '../../protocol/axdr/ber';
import { decodeData } from '../../protocol/axdr/codec';
import { DlmsClient } from '../../protocol/client/client';
import { FakeClock } from '../../protocol/common/clock';
import { isDcuError } from '../../protocol/common/errors';
import type { CosemRef } from '../../protocol/cosem/classes';
import { decodeObjectList } from '../../protocol/cosem/object-list';
import { decodeProfileBuffer } from '../../protocol/cosem/profile';
import { decodeFrame } from '../../protocol/hdlc/frame';
import { decodeHdlcParameters } from '../../protocol/hdlc/params';
import { HdlcSplitter } from '../../protocol/hdlc/splitter';
import { decipherApdu } from '../../protocol/security/ciphered-apdu';
import { HdlcMeterStation, WrapperMeterStation } from '../../protocol/server';
import { decodeWrapper } from '../../protocol/wrapper/codec';
import { WrapperSplitter } from '../../protocol/wrapper/splitter';
import { CIPHER_KEYS, type Corpus } from './corpus';
import { settleOnClock } from './drive';
import { HOSTILE_BEHAVIOURS, HostileMeter } from './hostile-meter';
import { createFuzzServer, FUZZ_CAPTURE_OBJECTS, FUZZ_OBIS } from './model';
import type { JsonMutationOptions } from './json';
import type { Rng } from './rng';
import { API_SEED_INPUTS, apiInput, HES_SEED_INPUTS, hesInput, runApi, runHes } from './targets-daemon';
import { SESSION_TARGETS } from './targets-session';

export interface SyncTarget {
  readonly name: string;
  /** Valid inputs of this target, to mutate. */
  seeds(corpus: Corpus): readonly Uint8Array[];
  /** Feeds one input; may throw DcuError, nothing else (the daemon's doors answer asynchronously). */
  run(input: Uint8Array, rng: Rng): void | Promise<void>;
  /** Share of the inputs, relative to the decoders' 4 (the costly targets take less). */
  readonly weight?: number;
  /** Its time limit in units of the per-input limit (default 1; a whole API request through fastify and SQLite: 5). */
  readonly timeFactor?: number;
  /** Makes the input itself (the JSON targets) instead of mutating one of the seeds. */
  input?(rng: Rng, o: JsonMutationOptions): Uint8Array;
}

function once<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

/** Tolerates DcuError (the expected outcome of bad input), lets anything else through. */
function tolerate(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!isDcuError(e)) throw e;
  }
}

/** Splits input into random chunks (1 byte … all). */
function chunks(input: Uint8Array, rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  const small = rng.chance(0.2);
  for (let at = 0; at < input.length; ) {
    const n = small ? 1 + rng.int(3) : 1 + rng.int(Math.max(1, input.length));
    out.push(input.subarray(at, at + n));
    at += n;
  }
  return out;
}

function walkBer(e: BerElement, depth: number): void {
  if (!e.tag.constructed || depth > 8) return;
  for (const c of readBerChildren(e)) walkBer(c, depth + 1);
}

const WRONG_KEYS = { blockKey: new Uint8Array(16).fill(0x55), authKey: new Uint8Array(16).fill(0xaa), peerSystemTitle: CIPHER_KEYS.systemTitle };
const RIGHT_KEYS = { blockKey: CIPHER_KEYS.blockKey, authKey: CIPHER_KEYS.authKey, peerSystemTitle: CIPHER_KEYS.systemTitle };

export const SYNC_TARGETS: readonly SyncTarget[] = [
  {
    name: 'hdlc',
    seeds: (c) => [...c.hdlc, ...c.serverHdlc],
    run(input, rng) {
      const s = new HdlcSplitter();
      for (const chunk of chunks(input, rng)) {
        for (const ev of s.push(chunk)) {
          if (ev.type !== 'frame') continue;
          tolerate(() => decodeFrame(ev.raw));
          const k = ev.frame.control.kind;
          if (k === 'SNRM' || k === 'UA') tolerate(() => decodeHdlcParameters(ev.frame.info));
        }
      }
      tolerate(() => decodeFrame(input));
    },
  },
  {
    name: 'wrapper',
    seeds: (c) => [...c.wrapper, ...c.serverWrapper],
    run(input, rng) {
      const s = new WrapperSplitter({ maxApduLength: rng.chance(0.5) ? 0xffff : 1 + rng.int(2048) });
      for (const chunk of chunks(input, rng)) {
        for (const item of s.push(chunk)) if (item.type === 'frame') tolerate(() => decodeApdu(item.frame.apdu));
      }
      tolerate(() => decodeWrapper(input));
    },
  },
  { name: 'apdu', seeds: (c) => [...c.apdus, ...c.ciphered], run: (input) => tolerate(() => decodeApdu(input)) },
  {
    name: 'ciphered',
    seeds: (c) => c.ciphered,
    run(input, rng) {
      tolerate(() => decipherApdu(input, rng.chance(0.5) ? WRONG_KEYS : RIGHT_KEYS));
    },
  },
  { name: 'axdr', seeds: (c) => c.data, run: (input) => tolerate(() => decodeData(input)) },
  {
    name: 'ber',
    seeds: (c) => c.ber,
    run(input) {
      tolerate(() => walkBer(decodeBerElement(input), 0));
      tolerate(() => decodeApdu(input));
    },
  },
  { name: 'object-list', seeds: (c) => c.objectLists, run: (input) => tolerate(() => decodeObjectList(decodeData(input))) },
  {
    name: 'profile',
    seeds: (c) => c.profiles,
    run: (input) => tolerate(() => decodeProfileBuffer(decodeData(input), FUZZ_CAPTURE_OBJECTS, { capturePeriod: 900 })),
  },
  {
    name: 'server-hdlc',
    seeds: (c) => c.serverHdlc,
    run(input, rng) {
      const clock = new FakeClock();
      const station = new HdlcMeterStation({ handler: createFuzzServer(clock, rng.chance(0.5)), address: { logical: 1, size: 1 }, limits: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 } });
      for (const chunk of chunks(input, rng)) {
        tolerate(() => station.receive(chunk));
        while (station.takeOutput() !== undefined);
      }
      station.dispose();
    },
  },
  {
    name: 'server-wrapper',
    seeds: (c) => c.serverWrapper,
    run(input, rng) {
      const station = new WrapperMeterStation({ handler: createFuzzServer(new FakeClock(), rng.chance(0.5)) });
      for (const chunk of chunks(input, rng)) {
        tolerate(() => station.receive(chunk));
        while (station.takeOutput() !== undefined);
      }
      station.close();
    },
  },
  ...SESSION_TARGETS.map((t) => {
    const seeds = once(t.seeds);
    return { name: t.name, seeds: () => seeds(), run: t.run, weight: 1 };
  }),
  { name: 'hes', seeds: once(HES_SEED_INPUTS), run: (input) => runHes(input), input: hesInput, weight: 1, timeFactor: 5 },
  { name: 'api', seeds: once(API_SEED_INPUTS), run: (input, rng) => runApi(input, rng), input: apiInput, weight: 1, timeFactor: 5 },
];

/** The client scenario of one input, for the reproducer. */
export interface ClientScenario {
  readonly framing: 'hdlc' | 'wrapper';
  readonly behaviour: (typeof HOSTILE_BEHAVIOURS)[number];
  readonly operation: 'get' | 'get-long' | 'get-profile' | 'set' | 'action';
  readonly hostileFromStart: boolean;
}

export function clientScenario(rng: Rng): ClientScenario {
  return {
    framing: rng.pick(['hdlc', 'wrapper'] as const),
    behaviour: rng.pick(HOSTILE_BEHAVIOURS),
    operation: rng.pick(['get', 'get-long', 'get-profile', 'set', 'action'] as const),
    hostileFromStart: rng.chance(0.1),
  };
}

/** Longest clock time a client run may take before it counts as never giving up. */
export const CLIENT_MAX_CLOCK_MS = 6 * 3600_000;

const ref = (classId: number, obis: CosemRef['obis'], index: number): CosemRef => ({ classId, obis, index });

/**
 * One association against a hostile meter. Resolves when the client ended (any DcuError is
 * fine); rejects with what went wrong otherwise (a foreign exception, or a client that never
 * gives up: 'hung').
 */
export async function runClient(s: ClientScenario, rng: Rng): Promise<void> {
  const clock = new FakeClock();
  const meter = new HostileMeter({ framing: s.framing, behaviour: s.behaviour, clock, random: rng.next, hostileFromStart: s.hostileFromStart });
  // A meter that sends valid blocks for ever is bounded by maxReassembledBytes (and the hour
  // ceiling): 64 KiB keeps such a run short on a clock that only moves when nothing else can.
  const limits = rng.chance(0.3) ? { maxApduSize: 4096, maxReassembledBytes: 65536 } : { maxReassembledBytes: 65536 };
  const client = new DlmsClient(meter, { framing: s.framing, clock, responseTimeoutMs: 1000, retries: 2, limits });
  const session = async (): Promise<void> => {
    await client.connect();
    switch (s.operation) {
      case 'get':
        await client.get(ref(3, FUZZ_OBIS.register, 2));
        break;
      case 'get-long':
        await client.get(ref(1, FUZZ_OBIS.longData, 2));
        break;
      case 'get-profile':
        await client.get(ref(7, FUZZ_OBIS.profile, 2));
        break;
      case 'set':
        await client.set(ref(3, FUZZ_OBIS.register, 2), { type: 'uint32', value: 1 });
        break;
      case 'action':
        await client.action(ref(3, FUZZ_OBIS.register, 1), { type: 'int8', value: 0 });
        break;
    }
    await client.close();
  };
  try {
    const outcome = await settleOnClock(clock, session(), CLIENT_MAX_CLOCK_MS);
    // Not a DcuError on purpose: the runner reports it as a failure.
    if (outcome.kind === 'hung') throw new Error(`the client never gave up (${CLIENT_MAX_CLOCK_MS} ms of clock time, or a wait with no timer)`);
    if (outcome.kind === 'error' && !isDcuError(outcome.error)) throw outcome.error;
  } finally {
    meter.dispose();
    await meter.close();
    await settleOnClock(clock, client.close().catch(() => undefined), 60_000);
  }
}
