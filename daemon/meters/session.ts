/**
 * One association with one registered meter, as every job needs it: a byte path on its line
 * (the caller holds the line's lease), the client built from the registry's access record,
 * connect, the registry told what happened (linked, commissioned, silent…), the identity read
 * and checked (another serial number at the address: FAIL, the body never runs), then the
 * job's body, and release/close whatever happens.
 */
import type { Config } from '../../config/schema';
import { DlmsClient } from '../../protocol/client/client';
import type { Clock } from '../../protocol/common/clock';
import { ErrorCode, isDcuError } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import type { InvocationCounterStore } from '../../protocol/security/counters';
import type { MeterRecord } from '../../storage/meters';
import { readIdentity } from '../jobs/meter-checks';
import { parseMeterAddress, type LineRuntime, type SessionBytesHook } from '../lines/line';
import type { Registry } from '../registry/registry';
import type { MeterIdentity } from '../../storage/meter-state';
import { mismatchText, sameSerial } from '../../storage/meter-state';
import { clientOptionsFor, isCiphered, PUBLIC_CLIENT } from './access';

export interface SessionDeps {
  /** keysDir: where `keys: { name }` files live. */
  readonly config: Pick<Config, 'keysDir'>;
  readonly clock: Clock;
  readonly counters: InvocationCounterStore;
  readonly registry: Registry;
}

export type SessionOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly code?: number };

/** A failure's text, and whether the meter did not answer at the link layer at all. */
export function failure(e: unknown): { reason: string; link: boolean; code?: number } {
  if (!isDcuError(e)) return { reason: e instanceof Error ? e.message : String(e), link: false };
  return { reason: e.message, link: e.layer === 'transport' || e.layer === 'framing', code: e.code };
}

/**
 * `body` gets the identity read at the association (a job that needs the firmware version or
 * the logical device name need not read them again). `onBytes`: the session's bytes as they
 * move, release included (firmware campaigns count them).
 */
export async function withMeterSession<T>(
  m: MeterRecord,
  line: LineRuntime,
  deps: SessionDeps,
  log: Logger,
  body: (client: DlmsClient, identity: MeterIdentity) => Promise<T>,
  onBytes?: SessionBytesHook,
): Promise<SessionOutcome<T>> {
  let session;
  let address;
  try {
    address = parseMeterAddress(line.config, m.address);
    session = await line.open(address, m.access.client, isCiphered(m) ? [PUBLIC_CLIENT] : [], onBytes);
  } catch (e) {
    const f = failure(e);
    // A TCP/UDP meter that cannot be reached is silent; a serial line that cannot open is the
    // line's fault, yet the meter's last error says why nothing was read (dcu meters list).
    const ip = line.config.serial === undefined;
    deps.registry.observe(m.serial, ip && f.link ? { kind: 'link-failed', reason: f.reason } : { kind: 'failed', reason: f.reason });
    log.warn({ err: f.reason }, 'line not available');
    return { ok: false, reason: f.reason, ...(f.code === undefined ? {} : { code: f.code }) };
  }
  let client: DlmsClient | undefined;
  try {
    client = new DlmsClient(session.transport, clientOptionsFor(m, line, address, { keysDir: deps.config.keysDir, clock: deps.clock, counters: deps.counters, logger: log }));
    try {
      await client.connect();
    } catch (e) {
      const f = failure(e);
      deps.registry.observe(m.serial, f.link ? { kind: 'link-failed', reason: f.reason } : { kind: 'association-failed', reason: f.reason });
      log.warn({ err: f.reason }, 'association failed');
      return { ok: false, reason: f.reason, ...(f.code === undefined ? {} : { code: f.code }) };
    }
    // Identity on every association (one GET-with-list): another meter may have been put at
    // this address, and its rows must never be stored under the registered serial number.
    const identity = await readIdentity(client);
    deps.registry.observe(m.serial, { kind: 'association-ok', identity });
    const reported = identity.serialNumber;
    if (reported !== undefined && !sameSerial(m.serial, reported)) {
      const reason = `${mismatchText(reported)}: the meter at ${m.line} ${m.address} is not ${m.serial}; nothing is collected from it until the registry is updated (dcu meters show ${m.serial})`;
      log.warn({ reported }, 'serial number mismatch: collection blocked');
      return { ok: false, reason, code: ErrorCode.MeterIdentityMismatch };
    }
    return { ok: true, value: await body(client, identity) };
  } catch (e) {
    const f = failure(e);
    // A cancelled read says nothing about the meter: its last error stays.
    if (f.link) deps.registry.observe(m.serial, { kind: 'link-failed', reason: f.reason });
    else if (f.code !== ErrorCode.JobCancelled) deps.registry.observe(m.serial, { kind: 'failed', reason: f.reason });
    log.warn({ err: f.reason }, 'meter session failed');
    return { ok: false, reason: f.reason, ...(f.code === undefined ? {} : { code: f.code }) };
  } finally {
    await client?.release().catch(() => undefined);
    await client?.close().catch(() => undefined);
    await session.close().catch(() => undefined);
  }
}
