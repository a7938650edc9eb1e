#!/usr/bin/env node
/**
 * The first demo (`npm start`): a small simulated fleet on emulated serial lines (socat pty
 * pairs, paced at the line's baud rate), read meter by meter with our DLMS client —
 * clock, energy registers, today's load profile — and a readable summary. The daemon
 * (dcud) takes this command over when it exists.
 */
import { DlmsClient } from '../../protocol/client/client';
import { systemClock } from '../../protocol/common/clock';
import { MultidropLine } from '../../protocol/transport/multidrop';
import { SerialTransport } from '../../protocol/transport/serial';
import { readBasics, type BasicReadResult } from '../../daemon/jobs/basic-read';
import { parseFleetConfig } from '../config';
import { startFleet, type MeterEndpoint } from '../fleet';
import { table } from '../../daemon/cli/render';

/** Exit code 2 (usage) for a bad environment variable, as for a bad flag. */
class DemoUsageError extends Error {}

/** A whole number from the environment, naming the variable when it is not one. */
export function envInteger(name: string, fallback: number, min: number, max: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max) {
    throw new DemoUsageError(`${name}=${text}: must be a whole number from ${min} to ${max} (default ${fallback})`);
  }
  return Number(text);
}

let METERS = 6;
let LINES = 2;
let BAUD = 38400;
const PASSWORD = '00000000';

async function readLine(device: string, meters: readonly MeterEndpoint[]): Promise<Map<string, BasicReadResult & { ms: number }>> {
  const out = new Map<string, BasicReadResult & { ms: number }>();
  const line = new MultidropLine(new SerialTransport({ path: device, baudRate: BAUD }));
  try {
    for (const m of meters) {
      const started = Date.now();
      const session = await line.acquire({ server: { logical: m.logicalDevice, physical: m.physicalAddress, size: m.line?.addressSize ?? 2 }, client: 17 });
      const client = new DlmsClient(session, {
        framing: 'hdlc',
        clientAddress: 17,
        serverAddress: { logical: m.logicalDevice, physical: m.physicalAddress, size: m.line?.addressSize ?? 2 },
        authentication: { mechanism: 'low', password: new TextEncoder().encode(PASSWORD) },
        responseTimeoutMs: 2000,
        retries: 2,
      });
      let result: BasicReadResult;
      try {
        await client.connect();
        result = await readBasics(client, { now: systemClock.now() });
      } catch (e) {
        result = { status: 'FAIL', observations: [], registers: [], error: { code: 0, message: e instanceof Error ? e.message : String(e) } };
      } finally {
        await client.close().catch(() => undefined);
      }
      out.set(m.serial, { ...result, ms: Date.now() - started });
      process.stdout.write(`  ${m.serial} ${result.status}\n`);
    }
  } finally {
    await line.close();
  }
  return out;
}

async function main(): Promise<void> {
  METERS = envInteger('DCU_DEMO_METERS', 6, 1, 4096);
  LINES = envInteger('DCU_DEMO_LINES', 2, 1, 64);
  BAUD = envInteger('DCU_DEMO_BAUD', 38400, 300, 115200);
  const config = parseFleetConfig({ meters: METERS, serialLines: LINES, baud: BAUD, latencyMs: 20 }, 'demo');
  console.log(`dcu demo — ${METERS} simulated meters on ${LINES} emulated serial lines at ${BAUD} baud (socat ptys)`);
  const fleet = await startFleet(config);
  try {
    for (const l of fleet.lines) console.log(`  line ${l.index}: ${l.device}, physical addresses ${l.firstPhysicalAddress}..${l.lastPhysicalAddress}`);
    console.log('reading (client 17, LLS): clock, +A/-A/+R/-R, today\'s load profile');
    const started = Date.now();
    const perLine = await Promise.all(fleet.lines.map((l) => readLine(l.device, fleet.endpoints.filter((m) => m.line?.index === l.index))));
    const results = new Map(perLine.flatMap((m) => [...m]));
    const rows = fleet.endpoints.map((m) => {
      const r = results.get(m.serial);
      const reg = (name: string): string => {
        const v = r?.registers.find((x) => x.name === name);
        if (!v) return '-';
        // Wh/varh read better as kWh/kvarh with three decimals, as on a billing display.
        return /^-?\d+$/.test(v.value) && (v.unit === 'Wh' || v.unit === 'varh') ? `${(Number(v.value) / 1000).toFixed(3)} k${v.unit}` : `${v.value} ${v.unit}`;
      };
      return [
        m.serial,
        `${m.line?.index ?? '-'}/${m.physicalAddress}`,
        r?.status ?? 'FAIL',
        r?.driftSeconds === undefined ? '-' : `${r.driftSeconds} s`,
        reg('+A'),
        reg('-A'),
        r?.profileRows === undefined ? '-' : `${r.profileRows}/${r.expectedProfileRows ?? '?'}`,
        `${((r?.ms ?? 0) / 1000).toFixed(1)} s`,
        r?.error?.message ?? r?.observations.join('; ') ?? '',
      ];
    });
    console.log(`\n${table(['meter', 'line/addr', 'result', 'drift', '+A', '-A', 'LP rows', 'time', 'observations'], rows)}`);
    const count = (s: string): number => rows.filter((r) => r[2] === s).length;
    console.log(`\n${count('EXE')} EXE, ${count('WARN')} WARN, ${count('FAIL')} FAIL in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exitCode = count('FAIL') > 0 ? 1 : 0;
  } finally {
    await fleet.stop();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`dcu demo: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = e instanceof DemoUsageError ? 2 : 1;
  });
}
