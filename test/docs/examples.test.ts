/**
 * Every `dcu probe` example in the README's "dcu probe" section, in docs/data-notation.md and
 * in `dcu probe --help` runs here, against the project's own simulator, so the docs cannot drift from the code.
 * The examples are read from the documents (```sh blocks); hardware paths and addresses are
 * mapped to simulated ones: /dev/ttyUSB0 → a dcu-sim serial line (a socat pty; with
 * --mode-e, a pty with a mode E responder in front of a simulated meter), 10.0.0.5:4059 and
 * 127.0.0.1:4059 → a dcu-sim meter on a free loopback port. An example that is added to the
 * docs without an expectation here fails the first test, and a stale expectation too.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../protocol/common/clock';
import { serveModeE } from '../../protocol/transport/mode-e-driver';
import { SerialTransport } from '../../protocol/transport/serial';
import { buildProgram } from '../../cli/dcu';
import { DEFAULT_CREDENTIALS, parseFleetConfig } from '../../sim/config';
import { startFleet, type RunningFleet } from '../../sim/fleet';
import { createSimMeter } from '../../sim/meter';
import { runCli } from '../helpers/cli';
import { serveMeter } from '../helpers/serve-meter';
import { createPtyPair, type PtyPair } from '../helpers/socat';

const ROOT = join(__dirname, '..', '..');

/** The section of a markdown document under `## <heading…>`, up to the next `## `. */
function section(markdown: string, headingStart: string): string {
  const start = markdown.indexOf(`\n## ${headingStart}`);
  if (start < 0) throw new Error(`no section "## ${headingStart}"`);
  const next = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** The `dcu probe …` commands of the ```sh blocks, continuation lines joined, comments dropped. */
export function probeExamples(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '');
    for (const raw of joined.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('dcu probe ')) out.push(line.replace(/\s+/g, ' '));
    }
  }
  return out;
}

/** The examples of `dcu probe --help` (indented lines after "Examples:", `(comments)` dropped). */
function helpExamples(help: string): string[] {
  const start = help.indexOf('\nExamples:\n');
  if (start < 0) return [];
  const block = help.slice(start + 11, help.indexOf('\n\n', start + 11));
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.replace(/\s{2,}\(.*\)$/, '').trim())
    .filter((l) => l.startsWith('dcu probe '))
    .map((l) => l.replace(/\s+/g, ' '));
}

/** Shell words: single and double quotes; a `> file` redirection ends the command. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const m of line.matchAll(re)) {
    if (m[3] === '>') break;
    words.push(m[1] ?? m[2] ?? m[3] ?? '');
  }
  return words;
}

interface Expectation {
  readonly stdout: RegExp;
}

/** What each documented example prints against the simulator (exit code 0 for all). */
const EXPECTED: Readonly<Record<string, Expectation>> = {
  // README, "dcu probe"
  'dcu probe --serial /dev/ttyUSB0 --server 1/17 objects': { stdout: /0\.0\.1\.0\.0\.255 +clock[\s\S]*\d+ objects$/m },
  'dcu probe --serial /dev/ttyUSB0 --mode-e --auth low --password 00000000 clock': { stdout: /^drift +[+-]\d+\.\d s/m },
  'dcu probe --tcp 10.0.0.5:4059 get 3:1.0.1.8.0.255:2': { stdout: /= \d+ Wh/ },
  'dcu probe --tcp 10.0.0.5:4059 --auth low --password 00000000 --json get 7:1.0.99.1.0.255:2 --entries 1..96': { stdout: /"array": \[/ },
  'dcu probe --serial /dev/ttyUSB0 --server 1/17 --auth low --password hex:3030303030303030 profile 1.0.99.1.0.255 --from 2026-11-22T00:00Z --to 2026-11-23T00:00Z --csv > lp.csv':
    { stdout: /^timestamp,/ },
  'dcu probe --tcp 10.0.0.5:4059 --client 1 --auth high-gmac --system-title 4443553030303031 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF clock --set now':
    { stdout: /^set clock: success/m },
  'dcu probe --serial /dev/ttyUSB0 --server 1/17 --client 1 --auth high-gmac --system-title 4443553030303031 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF flash meter-fw-2.1.bin --activate':
    { stdout: /^image activated: \d+ blocks sent/m },
  // docs/data-notation.md
  'dcu probe --tcp 127.0.0.1:4059 --client 1 --auth high-gmac --system-title 4443553030303031 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF action 18:0.0.44.0.0.255:1 \'{"structure": [{"octet-string": "4657322E30"}, {"uint32": 262144}]}\'':
    { stdout: /ACTION 18:0\.0\.44\.0\.0\.255:1: success/ },
  'dcu probe --tcp 127.0.0.1:4059 --client 1 --auth high-gmac --system-title 4443553030303031 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF action 8:0.0.1.0.0.255:6 \'{"int16": 30}\'':
    { stdout: /ACTION 8:0\.0\.1\.0\.0\.255:6: success/ },
  'dcu probe --tcp 127.0.0.1:4059 --client 1 --auth high-gmac --system-title 4443553030303031 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF set 8:0.0.1.0.0.255:2 \'{"date-time": "2026-11-23T10:30:00+01:00"}\'':
    { stdout: /SET 8:0\.0\.1\.0\.0\.255:2: success/ },
  'dcu probe --tcp 127.0.0.1:4059 --client 17 --auth low --password 00000000 --json get 8:0.0.1.0.0.255:2': { stdout: /"octet-string": "[0-9A-F]{24}"/ },
  // dcu probe --help (the first two are the README's too)
  'dcu probe --tcp 10.0.0.5:4059 --client 1 --auth high-gmac --system-title 4775727578313233 --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF clock':
    { stdout: /^drift /m },
  'dcu probe --tcp 10.0.0.5:4059 --client 1 --auth high-sha256 --secret hex:3132333435363738 --system-title 4775727578313233 clock': { stdout: /^drift /m },
  'dcu probe --tcp 127.0.0.1:4059 --auth low --password 00000000 profile 1.0.99.1.0.255 --from 2026-11-22T00:00Z --to 2026-11-23T00:00Z --csv': { stdout: /^timestamp,/ },
};

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const notation = readFileSync(join(ROOT, 'docs', 'data-notation.md'), 'utf8');
const fromFiles = [...probeExamples(section(readme, '`dcu probe`')), ...probeExamples(notation)];

/** `dcu probe --help` as printed (commander writes the "after" text through writeOut). */
function probeHelp(): string {
  let help = '';
  const probe = buildProgram(() => undefined).commands.find((c) => c.name() === 'probe');
  probe?.configureOutput({ writeOut: (t) => (help += t) });
  probe?.outputHelp();
  return help;
}
const documented = [...new Set([...fromFiles, ...helpExamples(probeHelp())])];

/** A loopback port nobody listens on right now (dcu-sim takes a base port, not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

let serialFleet: RunningFleet | undefined;
let tcpFleet: RunningFleet | undefined;
/** A meter whose management client 1 uses HLS-SHA256 (the simulator's default is HLS-GMAC). */
let sha256Fleet: RunningFleet | undefined;
let modeEPty: PtyPair | undefined;
let modeEPort: SerialTransport | undefined;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'dcu-doc-examples-'));
  writeFileSync(join(home, 'meter-fw-2.1.bin'), Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff)); // the `flash` example's image
  serialFleet = await startFleet(parseFleetConfig({ meters: 2, serialLines: 1, baud: 0, latencyMs: 0, jitterMs: 0 }, 'test'));
  tcpFleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: await freePort(), latencyMs: 0, jitterMs: 0 }, 'test'));
  const sha256 = [{ client: 16, auth: 'none' }, { client: 1, auth: 'high-sha256', secret: 'hex:3132333435363738' }];
  sha256Fleet = await startFleet(parseFleetConfig({ meters: 1, tcpBasePort: await freePort(), latencyMs: 0, jitterMs: 0, credentials: sha256 }, 'test'));

  // The optical probe: mode E at 300 baud 7E1, then HDLC to a simulated meter (1-byte address).
  modeEPty = await createPtyPair();
  const port = new SerialTransport({ path: modeEPty.b, baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
  modeEPort = port;
  await port.open();
  const meter = createSimMeter(
    { index: 0, serial: 'OPTO00000', physicalAddress: 16, logicalDevice: 1, credentials: DEFAULT_CREDENTIALS, rejectAssociations: false, seed: 1 },
    { clock: systemClock },
  );
  void serveModeE(port, { baudRate: 9600, manufacturer: 'DCU', identification: 'OPTO' }).then(() => {
    serveMeter(port, meter.handler, { framing: 'hdlc' });
  });
}, 30_000);

afterAll(async () => {
  await serialFleet?.stop();
  await tcpFleet?.stop();
  await sha256Fleet?.stop();
  await modeEPort?.close();
  await modeEPty?.close();
  rmSync(home, { recursive: true, force: true });
});

/** The example's words with hardware mapped to the simulated endpoints. */
function mapped(example: string): string[] {
  const words = shellWords(example).slice(1); // drop "dcu"
  const line = serialFleet?.lines[0]?.device ?? '';
  const fleet = words.includes('high-sha256') ? sha256Fleet : tcpFleet;
  const port = fleet?.endpoints[0]?.tcp?.port ?? 0;
  const modeE = words.includes('--mode-e');
  return words.map((w) => {
    if (w === '/dev/ttyUSB0') return modeE ? (modeEPty?.a ?? '') : line;
    if (/^(10\.0\.0\.5|127\.0\.0\.1):4059$/.test(w)) return `127.0.0.1:${port}`;
    if (w.endsWith('.bin')) return join(home, w);
    return w;
  });
}

it('every documented example has an expectation here, and every expectation is documented', () => {
  expect(fromFiles.length).toBeGreaterThanOrEqual(8);
  expect(documented.length).toBeGreaterThan(fromFiles.length); // --help adds its own
  expect(documented.filter((e) => !(e in EXPECTED))).toEqual([]);
  expect(Object.keys(EXPECTED).filter((e) => !documented.includes(e))).toEqual([]);
});

describe('documented examples against dcu-sim', () => {
  it.each(documented.map((e) => [e]))('%s', async (example) => {
    const r = await runCli('dcu', mapped(example), 30_000, { ...process.env, HOME: home, TZ: 'UTC' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(EXPECTED[example]?.stdout ?? /^$/);
  });
});
