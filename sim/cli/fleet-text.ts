/**
 * The text form of the fleet report that dcu-sim prints at start, for a person at a terminal.
 */
import { table } from '../../common/render';
import type { FleetReport } from '../report';
import { SIM_KEYS, type ClientCredential } from '../types';

/** How many meters the text report lists before eliding (all are in --json). */
const TEXT_METER_LIMIT = 16;

function credentialText(c: ClientCredential): string {
  switch (c.auth) {
    case 'none':
      return 'no authentication';
    case 'low':
      return `LLS password "${c.password ?? ''}"`;
    case 'high':
      return `HLS-GMAC ${c.policy ?? 'auth-enc'}, block key ${c.blockKey ?? SIM_KEYS.blockKey}, auth key ${c.authKey ?? SIM_KEYS.authKey}, system title DCU+index (test keys)`;
    case 'high-sha256':
      return `HLS-SHA256 ${c.policy ?? 'none'}, secret as configured (not shown), system title DCU+index`;
  }
}

/** `stateDir`: where state is saved on exit (dcu-sim --state), else nothing is saved. */
export function renderFleetText(r: FleetReport, stateDir?: string): string {
  const out: string[] = [`dcu-sim: ${r.meters.length} meters (${r.meterModel})`, ''];
  if (r.lines.length > 0) {
    out.push(
      'Serial lines (HDLC, 8N1; open the device as a serial port):',
      table(
        ['line', 'device', 'baud', 'meters', 'physical addresses'],
        r.lines.map((l) => [l.name, l.device, l.baud > 0 ? String(l.baud) : 'unpaced', String(l.meters), `${l.firstPhysicalAddress}..${l.lastPhysicalAddress}`]),
      ),
      '',
    );
  }
  const shown = r.meters.slice(0, TEXT_METER_LIMIT);
  out.push(
    'Meters (server address = logical/physical):',
    table(
      ['serial', 'server', 'line', 'tcp'],
      shown.map((m) => [
        m.serial,
        `${m.logicalDevice}/${m.physicalAddress}`,
        m.line === undefined ? '-' : `${m.line.device} (${m.line.addressSize}-byte address)`,
        m.tcp === undefined ? '-' : `${m.tcp.host}:${m.tcp.port} ${m.tcp.framing}`,
      ]),
    ),
  );
  if (r.meters.length > shown.length) {
    out.push(`… and ${r.meters.length - shown.length} more (meter i: line i div meters-per-line, physical 16 + i mod meters-per-line, tcp base + i; --json lists all)`);
  }
  out.push('', 'Clients:', table(['client', 'authentication'], r.clients.map((c) => [String(c.client), credentialText(c)])), '');
  if (r.lines.length > 0) {
    const first = r.meters[0];
    if (first?.line !== undefined) {
      out.push(`Try: dcu probe --serial ${first.line.device} --server ${first.logicalDevice}/${first.physicalAddress} objects`);
    }
  } else if (r.meters[0]?.tcp !== undefined) {
    const t = r.meters[0].tcp;
    out.push(`Try: dcu probe --tcp ${t.host}:${t.port} --framing ${t.framing} objects`);
  }
  out.push(stateDir === undefined ? 'Stop with Ctrl-C (no --state: meter state is not saved).' : `Stop with Ctrl-C (state is saved to ${stateDir} on exit).`);
  return out.join('\n');
}
