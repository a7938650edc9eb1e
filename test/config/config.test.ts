import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromText, loadConfig } from '../../config/load';
import { EXAMPLE_CONFIG } from '../../config/example';
import { configReference } from '../../config/reference';
import { formatDuration, parseDuration, parseSize } from '../../config/units';
import { DcuError, ErrorCode } from '../../protocol/common/errors';

/** The message of the DcuError(Config) that `f` throws. */
function problemsOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DcuError);
    expect((e as DcuError).code).toBe(ErrorCode.Config);
    return (e as DcuError).message;
  }
  throw new Error('expected a configuration error');
}

const MINIMAL = 'id: dcu-test\n';

describe('units', () => {
  it.each([
    ['15m', 900_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
  ])('duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
  it.each(['', '15', 'm', '-1s', '1y'])('rejects duration %p', (text) => expect(parseDuration(text)).toBeUndefined());
  it.each([
    ['2GB', 2e9],
    ['512MiB', 512 * 2 ** 20],
    ['1000000', 1e6],
    [4096, 4096],
  ] as const)('size %p', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it('rejects a size with an unknown unit', () => expect(parseSize('2 GBs')).toBeUndefined());
});

describe('configuration', () => {
  it('the example passes the check', () => {
    const { config } = configFromText(EXAMPLE_CONFIG, 'example.yaml');
    expect(config.id).toBe('dcu-0001');
    expect(config.meters.map((m) => m.serial)).toEqual(['SIM000000', 'SIM000001']);
    // its secured meter is a commented template: valid once uncommented, keys by name
    const secured = configFromText(EXAMPLE_CONFIG.replace(/^ {2}# (- serial: SIM000004|  \w+: .*)$/gm, '  $1'), 'example.yaml').config;
    expect(secured.meters.map((m) => m.serial)).toEqual(['SIM000000', 'SIM000001', 'SIM000004']);
    expect(secured.meters[2]).toMatchObject({ auth: 'high-gmac', keys: { name: 'SIM000004' } });
  });

  it('fills defaults', () => {
    const { config } = configFromText(`${MINIMAL}lines: [{ name: plc0, serial: { path: /dev/ttyUSB0 } }]\nmeters: [{ serial: A1, line: plc0, address: "1/17" }]\n`, 'c.yaml');
    expect(config.stateDir).toBe('/var/lib/dcu');
    expect(config.lines[0]?.serial?.baud).toBe(9600);
    expect(config.lines[0]?.serial?.framing).toBe('hdlc');
    expect(config.lines[0]?.timeout).toBe('3s');
    expect(config.meters[0]).toMatchObject({ client: 16, auth: 'none', gbt: true });
    expect(config.clock).toEqual({ syncAbove: '5m', eventAbove: '10m' });
    expect(config.storage.maxBytes).toBe('2GB');
    expect(config.registry.unreachableAfter).toBe('72h');
  });

  it('a JSON file works too', () => {
    expect(configFromText('{"id": "dcu-json"}', 'c.json').config.id).toBe('dcu-json');
  });

  it('names the key path, the bad value and what is allowed', () => {
    const text = `${MINIMAL}lines: [{ name: plc0, serial: { path: /dev/ttyUSB0, baud: 1234 } }]\nmeters: [{ serial: A1, line: plc0, address: "1/17", auth: hig }]\n`;
    const msg = problemsOf(() => configFromText(text, 'c.yaml'));
    expect(msg).toMatch(/^c\.yaml: 2 problems/);
    expect(msg).toContain('lines[0].serial.baud: 1234 is not allowed; allowed: 300, 600, 1200, 2400, 4800, 9600');
    expect(msg).toContain('meters[0].auth: "hig" is not allowed; allowed: none, low, high-gmac, high-sha256');
  });

  it('an unknown key is an error, not a silently ignored setting', () => {
    const msg = problemsOf(() => configFromText(`${MINIMAL}storage: { maxbytes: 1GB }\n`, 'c.yaml'));
    expect(msg).toContain('storage.maxbytes: unknown key "maxbytes"; allowed here: maxBytes');
  });

  it('checks what a schema cannot: references, one transport per line, credentials, addresses', () => {
    const text = `${MINIMAL}lines:
  - { name: plc0, serial: { path: /dev/ttyUSB0 }, tcp: {} }
  - { name: ip, tcp: {} }
meters:
  - { serial: A1, line: plc9, address: "1/17" }
  - { serial: A2, line: ip, address: "1/17" }
  - { serial: A3, line: ip, address: "h:4059", auth: low }
  - { serial: A3, line: ip, address: "h:4060", auth: high-gmac }
`;
    const msg = problemsOf(() => configFromText(text, 'c.yaml'));
    expect(msg).toContain('lines[0]: needs exactly one of serial, tcp, udp (has serial, tcp)');
    expect(msg).toContain('meters[0].line: "plc9" is not a line; lines: plc0, ip');
    expect(msg).toContain('meters[1].address: "1/17" is not HOST:PORT');
    expect(msg).toContain('meters[2].password: is required with auth: low');
    expect(msg).toContain('meters[3].serial: "A3" is listed twice');
    expect(msg).toContain('meters[3].systemTitle: is required with auth: high-gmac');
    expect(msg).toContain('meters[3].keys: is required with auth: high-gmac');
  });

  it('checks the local API section: HOST:PORT, no unknown keys, cert and key together', () => {
    const msg = problemsOf(() => configFromText(`${MINIMAL}api: { listen: "8443", tls: true }\n`, 'c.yaml'));
    expect(msg).toMatch(/api\.listen: "8443" has the wrong form/);
    expect(msg).toMatch(/api\.tls: unknown key "tls"; allowed here: listen, cert, key/);
    expect(problemsOf(() => configFromText(`${MINIMAL}api: { listen: "0.0.0.0:8443", cert: /etc/dcu/api.pem }\n`, 'c.yaml'))).toContain('api.key: api.cert and api.key go together');
    expect(configFromText(`${MINIMAL}api: { listen: "[::]:8443" }\n`, 'c.yaml').config.api).toEqual({ listen: '[::]:8443' });
  });

  it('a missing id and bad durations are named', () => {
    const msg = problemsOf(() => configFromText('collection: { load-profile: { every: 15 } }\n', 'c.yaml'));
    expect(msg).toContain('id: is required');
    expect(msg).toMatch(/collection\.load-profile\.every: 15: must be string — how often to collect \(duration: 90s, 15m/);
  });

  it('broken YAML, an empty list where a mapping belongs, and a missing file are config errors', () => {
    expect(problemsOf(() => configFromText('id: [unclosed\n', 'c.yaml'))).toMatch(/not valid YAML/);
    expect(problemsOf(() => configFromText('- a\n- b\n', 'c.yaml'))).toMatch(/must be a mapping/);
    expect(problemsOf(() => loadConfig('/nonexistent/dcu.yaml'))).toMatch(/the configuration file does not exist \(check the path\)/);
  });

  it('DCU_<PATH> environment variables override the file, typed by the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-config-'));
    const file = join(dir, 'dcu.yaml');
    writeFileSync(file, `${MINIMAL}lines: [{ name: plc0, serial: { path: /dev/ttyUSB0 } }]\n`);
    const { config, overrides } = loadConfig(file, {
      DCU_STATE_DIR: '/srv/dcu',
      DCU_STORAGE_MAX_BYTES: '512MB',
      DCU_LINES_0_SERIAL_PATH: '/dev/ttyAMA0',
      DCU_LINES_0_SERIAL_BAUD: '19200',
      DCU_MQTT_URL: 'mqtt://127.0.0.1:1883',
      DCU_HOST: 'not a config key',
    });
    expect(config.stateDir).toBe('/srv/dcu');
    expect(config.storage.maxBytes).toBe('512MB');
    expect(config.lines[0]?.serial).toMatchObject({ path: '/dev/ttyAMA0', baud: 19200 });
    expect(config.mqtt?.url).toBe('mqtt://127.0.0.1:1883');
    expect(overrides.map((o) => o.path).sort()).toEqual(['lines[0].serial.baud', 'lines[0].serial.path', 'mqtt.url', 'stateDir', 'storage.maxBytes']);
  });

  it('a bad environment value is named with its variable', () => {
    const msg = problemsOf(() => configFromText(MINIMAL, 'c.yaml', { DCU_CLOCK_SYNC_ABOVE: 'soon' }));
    expect(msg).toContain('with DCU_CLOCK_SYNC_ABOVE');
    expect(msg).toMatch(/clock\.syncAbove: "soon" has the wrong form/);
  });
});

describe('docs/config.md', () => {
  it('is the reference generated from the schema (run `npm run docs:config` after changing it)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'config.md'), 'utf8')).toBe(configReference());
  });
});
