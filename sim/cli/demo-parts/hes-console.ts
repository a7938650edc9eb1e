/**
 * The demo's HES console: subscribes to `dcu/<id>/#` on the broker and prints one line per
 * message — what a head-end receives: the class, the seq range (in order per stream, the same
 * seq again is a re-send), the meters and what they carry.
 */
import { connect, type MqttClient } from 'mqtt';

export interface HesConsole {
  close(): Promise<void>;
}

interface Item {
  readonly meter?: string;
  readonly count?: number;
  readonly rows?: readonly unknown[];
  readonly values?: readonly { readonly name?: string; readonly value?: string; readonly unit?: string }[];
  readonly events?: readonly unknown[];
}

function kwh(v: { value?: string; unit?: string } | undefined): string {
  if (v?.value === undefined) return '';
  return /^-?\d+(\.\d+)?$/.test(v.value) && (v.unit === 'Wh' || v.unit === 'varh') ? `${(Number(v.value) / 1000).toFixed(3)} k${v.unit}` : `${v.value} ${v.unit ?? ''}`.trim();
}

/** One line for one message (exported for the test of the format). */
export function describeMessage(topic: string, prefix: string, payload: Buffer): string {
  const name = topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return `${name}  (${payload.length} bytes, not JSON)`;
  }
  const d = doc as { state?: string; seq?: { first?: number; last?: number }; items?: readonly { seq?: number; meter?: string }[] };
  if (name === 'status') return `status  ${d.state ?? JSON.stringify(doc).slice(0, 80)}`;
  if (d.seq === undefined || !Array.isArray(d.items)) return `${name}  ${JSON.stringify(doc).slice(0, 100)}`;
  const items = d.items as readonly Item[];
  const meters = [...new Set(items.flatMap((i) => (i.meter === undefined ? [] : [i.meter])))];
  const what = items.map((i) => {
    if (i.count !== undefined || i.rows !== undefined) return `${i.meter ?? '?'} ${i.count ?? i.rows?.length ?? 0} rows`;
    if (i.values !== undefined && i.values.some((v) => v.name !== undefined)) return `${i.meter ?? '?'} +A ${kwh(i.values.find((v) => v.name === '+A'))}`;
    // other classes (events, alarms, results…): the item's lists and their sizes
    const lists = Object.entries(i as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? [`${v.length} ${k}`] : []));
    const o = i as { name?: unknown; code?: unknown; state?: unknown };
    const label = [o.name, o.code, o.state].find((x) => typeof x === 'string' || typeof x === 'number');
    return [i.meter, ...lists, label].filter((x) => x !== undefined).join(' ');
  });
  const seq = d.seq.first === d.seq.last ? `seq ${d.seq.first ?? '?'}` : `seq ${d.seq.first ?? '?'}-${d.seq.last ?? '?'}`;
  const shown = what.slice(0, 3).join(', ') + (what.length > 3 ? `, … (${meters.length} meters)` : '');
  return `${name}  ${seq}  ${shown}`;
}

export async function startHesConsole(url: string, id: string, print: (line: string) => void): Promise<HesConsole> {
  const prefix = `dcu/${id}/`;
  const client: MqttClient = connect(url, { clientId: `hes-console-${process.pid}`, reconnectPeriod: 1000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  client.on('message', (topic, payload) => print(`HES ← ${describeMessage(topic, prefix, payload)}`));
  await client.subscribeAsync(`${prefix}#`, { qos: 1 });
  return { close: () => client.endAsync() };
}
