/**
 * One push → stored alarms, at once. The handler identifies the meter (system title of a
 * ciphered push; HDLC address on a serial line; else the logical device name or serial in
 * the push content), refuses plain pushes for meters configured for ciphering and replays
 * of an invocation counter already accepted (persisted: storage/push-replay.ts), stores the alarm register's newly set bits (and a
 * `power-down` alarm for a last gasp) each with its outbox message in one transaction, and
 * tells the registry the meter was heard. Nothing here throws: a bad push is a typed
 * DcuError, logged once per source and error code per minute, and nothing is stored.
 */
import type { LineConfig } from '../../config/schema';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import { toHex } from '../../protocol/common/hex';
import type { Logger } from '../../protocol/common/log';
import { LAST_GASP_PUSH_OBIS } from '../../protocol/cosem/push';
import { obisEquals } from '../../protocol/cosem/obis';
import { addressEquals, formatAddress, type HdlcAddress } from '../../protocol/hdlc/address';
import type { HdlcFrame } from '../../protocol/hdlc/frame';
import { inReserve, write, type Db } from '../../storage/db';
import type { EventLog } from '../../storage/events';
import type { MeterRecord, MeterRepository } from '../../storage/meters';
import { SqlitePushReplayGuard, type PushReplayGuard } from '../../storage/push-replay';
import { alarmBitName } from '../jobs/event-tables';
import { parseMeterAddress } from '../lines/line';
import { isCiphered, loadKeys } from '../meters/access';
import type { Registry } from '../registry/registry';
import { apduOfFrame, decodePush, type DecodedPush, type PushKeys } from './decode';

export interface PushSource {
  readonly kind: 'tcp' | 'udp' | 'serial';
  /** Remote host (tcp/udp) or line name (serial): the rate-limit key. */
  readonly peer: string;
  /** Serial lines: the line and the HDLC source address of the frame. */
  readonly line?: string;
  readonly hdlc?: HdlcAddress;
}

export type PushOutcome =
  | { readonly ok: true; readonly meter: string; readonly raised: readonly string[] }
  | { readonly ok: false; readonly error: DcuError };

export interface PushHandlerDeps {
  readonly db: Db;
  readonly meters: MeterRepository;
  readonly events: EventLog;
  readonly registry: Registry;
  readonly lines: readonly LineConfig[];
  /** Where `keys: { name }` files live (config keysDir). */
  readonly keysDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Replay guard of ciphered pushes (default: persisted in the store). */
  readonly replay?: PushReplayGuard;
}

/** One log line per source and error code per this period; the rest are counted. */
export const PUSH_LOG_PERIOD_MS = 60_000;

export interface PushStats {
  accepted: number;
  rejected: number;
}

export class PushHandler {
  readonly stats: PushStats = { accepted: 0, rejected: 0 };
  private readonly replay: PushReplayGuard;
  private readonly logged = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly deps: PushHandlerDeps) {
    this.replay = deps.replay ?? new SqlitePushReplayGuard(deps.db, () => deps.clock.now());
  }

  /** A push APDU (wrapper payload, or HDLC information field without LLC). */
  handle(source: PushSource, apdu: Uint8Array): PushOutcome {
    try {
      const push = decodePush(apdu, (title) => this.keysFor(title));
      const meter = this.identify(source, push);
      return this.store(meter, push);
    } catch (e) {
      return this.reject(source, e);
    }
  }

  /** An unsolicited HDLC frame on a serial line (MultidropLine's unclaimed hook). */
  handleFrame(line: string, frame: HdlcFrame): PushOutcome {
    const source: PushSource = { kind: 'serial', peer: `line ${line}`, line, hdlc: frame.src };
    if (frame.control.kind !== 'UI' && frame.control.kind !== 'I') {
      return this.reject(source, new DcuError(ErrorCode.FramingUnexpectedFrame, `unsolicited ${frame.control.kind} frame from ${formatAddress(frame.src)}: not a push (meters push in UI frames)`));
    }
    try {
      return this.handle(source, apduOfFrame(frame));
    } catch (e) {
      return this.reject(source, e);
    }
  }

  /** Records a transport-level failure (bad wrapper header…) against its source. */
  reject(source: PushSource, e: unknown): PushOutcome {
    const error = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, `push handling failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    this.stats.rejected++;
    const key = `${source.kind} ${source.peer} ${error.code}`;
    const now = this.deps.clock.now();
    const seen = this.logged.get(key);
    if (seen !== undefined && now - seen.at < PUSH_LOG_PERIOD_MS) {
      seen.suppressed++;
    } else {
      this.deps.logger.warn({ source: `${source.kind} ${source.peer}`, code: error.code, suppressed: seen?.suppressed ?? 0, err: error.message }, 'push rejected: nothing stored');
      this.logged.set(key, { at: now, suppressed: 0 });
      if (this.logged.size > 1024) this.logged.delete(this.logged.keys().next().value ?? key);
    }
    return { ok: false, error };
  }

  private keysFor(systemTitle: Uint8Array): PushKeys | undefined {
    const title = toHex(systemTitle).toUpperCase();
    const m = this.deps.meters.list().find((r) => r.access.meterSystemTitle?.toUpperCase() === title);
    if (m === undefined) return undefined;
    return { serial: m.serial, ...loadKeys(m, this.deps.keysDir) };
  }

  private identify(source: PushSource, push: DecodedPush): MeterRecord {
    const all = this.deps.meters.list();
    if (push.ciphered !== undefined) {
      const m = all.find((r) => r.serial === push.ciphered?.serial);
      if (m !== undefined) return m;
    }
    if (source.kind === 'serial' && source.hdlc !== undefined) {
      const hdlc = source.hdlc;
      const line = this.deps.lines.find((l) => l.name === source.line);
      const m = line === undefined ? undefined : all.find((r) => r.line === line.name && this.addressIs(line, r, hdlc));
      if (m !== undefined) return this.plainAllowed(m, push);
    }
    const ldn = push.content.logicalDeviceName;
    // A frame on a serial line can only come from a meter on that line.
    const candidates = source.kind === 'serial' ? all.filter((r) => r.line === source.line) : all;
    if (ldn !== undefined) {
      const m = candidates.find((r) => r.state.identity.logicalName === ldn) ?? candidates.find((r) => ldn === r.serial || (r.serial.length >= 6 && ldn.endsWith(r.serial)));
      if (m !== undefined) return this.plainAllowed(m, push);
    }
    const who = source.hdlc === undefined ? (ldn === undefined ? 'an unnamed sender' : `logical device name "${ldn}"`) : `HDLC address ${formatAddress(source.hdlc)}`;
    throw new DcuError(ErrorCode.MeterPushUnknown, `push from ${who} on ${source.kind} ${source.peer}: no registered meter matches; register the meter (serial, address) first`, {
      context: { source: `${source.kind} ${source.peer}`, ...(ldn === undefined ? {} : { logicalDeviceName: ldn }) },
    });
  }

  private addressIs(line: LineConfig, r: MeterRecord, hdlc: HdlcAddress): boolean {
    try {
      return addressEquals(parseMeterAddress(line, r.address).server, hdlc);
    } catch {
      return false;
    }
  }

  /** A meter configured for ciphering only speaks ciphered: a plain push in its name is refused. */
  private plainAllowed(m: MeterRecord, push: DecodedPush): MeterRecord {
    if (push.ciphered === undefined && isCiphered(m)) {
      throw new DcuError(ErrorCode.SecurityUnsupported, `plain push in the name of ${m.serial}, which is configured for ciphering: refused (a forged push cannot raise alarms)`, {
        context: { meter: m.serial },
      });
    }
    return m;
  }

  private store(m: MeterRecord, push: DecodedPush): PushOutcome {
    const c = push.ciphered;
    if (c !== undefined) {
      if (!this.replay.accept(c.systemTitle, c.invocationCounter)) {
        throw new DcuError(ErrorCode.SecurityReplay, `push from ${m.serial} with invocation counter ${c.invocationCounter}, not above one already accepted: a replay, refused`, {
          context: { meter: m.serial, invocationCounter: c.invocationCounter },
        });
      }
    }
    const { db, events, clock } = this.deps;
    const now = clock.now();
    const raised: string[] = [];
    const pushSetup = push.content.pushSetup;
    if (pushSetup !== undefined && obisEquals(pushSetup, LAST_GASP_PUSH_OBIS)) {
      // Small and bounded: a last gasp may use the store's reserve.
      inReserve(db, () => write(db, `the last gasp of ${m.serial}`, () => events.alarm({ meter: m.serial, code: 'power-down', detail: `last gasp push (${push.service})` }, now)));
      raised.push('power-down');
    }
    const value = push.content.alarmRegister;
    if (value !== undefined) raised.push(...events.applyAlarmRegister(m.serial, value, now, alarmBitName).raised);
    this.deps.registry.observe(m.serial, { kind: 'link-ok' });
    this.stats.accepted++;
    this.deps.logger.info({ meter: m.serial, service: push.service, ciphered: c !== undefined, raised }, 'push stored');
    return { ok: true, meter: m.serial, raised };
  }
}
