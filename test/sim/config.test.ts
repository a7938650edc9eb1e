import { DcuError, ErrorCode, isConfigError } from '../../protocol/common/errors';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meterIndexOf, meterSerial, parseFleetConfig, readFleetConfigFile } from '../../sim/config';

function configError(raw: unknown, source?: string): DcuError {
  try {
    parseFleetConfig(raw, source);
  } catch (e) {
    expect(isConfigError(e)).toBe(true);
    return e as DcuError;
  }
  throw new Error('expected a config error');
}

describe('fleet configuration', () => {
  it('fills defaults', () => {
    const c = parseFleetConfig({ meters: 1024, serialLines: 4 });
    expect(c).toMatchObject({ meters: 1024, serialLines: 4, framing: 'wrapper', baud: 9600, firstPhysicalAddress: 16, logicalDevice: 1, seed: 1 });
    expect(c.tcpBasePort).toBeUndefined();
    expect(c.credentials.map((x) => [x.client, x.auth])).toEqual([[16, 'none'], [17, 'low'], [1, 'high']]);
  });

  it('TCP limits: defaults, overrides, and a cap of 0 connections refused', () => {
    expect(parseFleetConfig({ meters: 1, tcpBasePort: 4059 })).toMatchObject({ tcpMaxConnections: 4, tcpIdleTimeoutMs: 120_000, tcpMaxBufferedBytes: 262_144 });
    expect(parseFleetConfig({ meters: 1, tcpBasePort: 4059, tcpMaxConnections: 1, tcpIdleTimeoutMs: 0, tcpMaxBufferedBytes: 4096 })).toMatchObject({
      tcpMaxConnections: 1,
      tcpIdleTimeoutMs: 0,
      tcpMaxBufferedBytes: 4096,
    });
    expect(configError({ meters: 1, tcpBasePort: 4059, tcpMaxConnections: 0 }).context['field']).toBe('tcpMaxConnections');
    expect(configError({ meters: 1, tcpBasePort: 4059, tcpMaxBufferedBytes: 10 }).context['field']).toBe('tcpMaxBufferedBytes');
  });

  it('accepts numbers given as strings (flags)', () => {
    expect(parseFleetConfig({ meters: '2', tcpBasePort: '4059', latencyMs: '0' })).toMatchObject({ meters: 2, tcpBasePort: 4059, latencyMs: 0 });
  });

  it('names the bad field, the flag and what was expected', () => {
    const e = configError({ meters: 'many', serialLines: 1 }, 'command line');
    expect(e.code).toBe(ErrorCode.Config);
    expect(e.message).toBe('command line: 1 problem\n  meters (--meters): "many" is not allowed; allowed: an integer from 1 to 65535 — number of meters');
    expect(e.context).toMatchObject({ field: 'meters', flag: '--meters' });
    expect(configError({ meters: 2 }).message).toMatch(/serialLines \(--serial-lines K\) or tcpBasePort \(--tcp BASEPORT\)/);
    expect(configError({ meters: 2, tcpBasePort: 65535 }).context['field']).toBe('tcpBasePort');
    expect(configError({ meters: 2, serialLines: 1, framing: 'ppp' }).message).toMatch(/framing \(--framing\): "ppp" is not allowed; allowed: wrapper, hdlc/);
    expect(configError({ meters: 2, serialLines: 1, baud: -1 }).context['field']).toBe('baud');
    expect(configError({ meters: 2, serialLines: 3 }).context['field']).toBe('serialLines');
  });

  it('reports every problem at once, each with its key path (the daemon config validator)', () => {
    const e = configError({ meters: 0, serialLines: 1, hdlc: { windowTx: 9 }, faults: { lossProbability: 'x' } }, 'f.json');
    expect(e.message).toMatch(/^f\.json: 3 problems\n/);
    expect(e.message).toContain('  meters (--meters): 0 is not allowed; allowed: an integer from 1 to 65535');
    expect(e.message).toContain('  hdlc.windowTx: 9 is not allowed; allowed: an integer from 1 to 7');
    expect(e.message).toContain('  faults.lossProbability (--loss): "x" is not allowed; allowed: a number from 0 to 1');
    expect(e.context).toMatchObject({ field: 'meters', problems: 3 });
  });

  it('rejects a configuration that is not an object', () => {
    expect(configError([1], 'x.json').message).toBe('x.json: the configuration must be an object, got [1]');
  });

  it('rejects unknown fields (typos) and bad nested fields with their path', () => {
    expect(configError({ meters: 2, serialLines: 1, metres: 3 }).message).toMatch(/metres: unknown key "metres"; allowed here: meters, serialLines/);
    const e = configError({ meters: 2, serialLines: 1, faults: { silent: [{ fromMs: 10, toMs: 5 }] } });
    expect(e.context['field']).toBe('faults.silent[0].toMs');
    expect(configError({ meters: 2, serialLines: 1, faults: { lossProbability: 2 } }).context['field']).toBe('faults.lossProbability');
    expect(configError({ meters: 2, serialLines: 1, meterFaults: { SIM000009: {} } }).context['field']).toBe('meterFaults.SIM000009');
    expect(configError({ meters: 2, serialLines: 1, lineFaults: { 1: {} } }).context['field']).toBe('lineFaults.1');
    expect(configError({ meters: 2, serialLines: 1, credentials: [{ client: 17, auth: 'low' }] }).context['field']).toBe('credentials[0].password');
    expect(configError({ meters: 2, serialLines: 1, hdlc: { windowTx: 9 } }).context['field']).toBe('hdlc.windowTx');
    // 20000 meters on one line do not fit in 14-bit physical addresses.
    expect(configError({ meters: 20_000, serialLines: 1 }).context['field']).toBe('firstPhysicalAddress');
  });

  it('parses per-line and per-meter faults', () => {
    const c = parseFleetConfig({
      meters: 4,
      serialLines: 2,
      faults: { lossProbability: 0.01 },
      lineFaults: { 1: { extraLatencyMs: 500 } },
      meterFaults: { SIM000002: { silent: [{ everyMs: 600000, forMs: 60000 }], rejectAssociations: true }, 3: { powerCutsAtMs: [1000], powerOutageMs: 2000 } },
    });
    expect(c.meterFaults['SIM000002']?.silent).toEqual([{ everyMs: 600000, forMs: 60000 }]);
    expect(c.meterFaults['3']?.powerCutsAtMs).toEqual([1000]);
    expect(c.lineFaults['1']?.extraLatencyMs).toBe(500);
  });

  it('reads a JSON file and reports unreadable or invalid files as config errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcu-sim-cfg-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(good, JSON.stringify({ meters: 3, tcpBasePort: 5000 }));
      expect(parseFleetConfig(readFleetConfigFile(good), good).meters).toBe(3);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{ meters: 3');
      expect(() => readFleetConfigFile(bad)).toThrow(/not valid JSON/);
      expect(() => readFleetConfigFile(join(dir, 'none.json'))).toThrow(DcuError);
      writeFileSync(bad, '[1]');
      expect(() => readFleetConfigFile(bad)).toThrow(/must be a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes deterministic serials', () => {
    expect(meterSerial('SIM', 7)).toBe('SIM000007');
    expect(meterIndexOf('SIM000007', 'SIM', 10)).toBe(7);
    expect(meterIndexOf('SIM000017', 'SIM', 10)).toBeUndefined();
    expect(meterIndexOf('XYZ000001', 'SIM', 10)).toBeUndefined();
  });
});

describe('meter model options', () => {
  it('capture period and profile depth reach the config, checked', () => {
    const c = parseFleetConfig({ meters: 1, serialLines: 1, capturePeriodS: 60, profileDepthDays: 3 }, 'test');
    expect(c).toMatchObject({ capturePeriodS: 60, profileDepthDays: 3 });
    expect(parseFleetConfig({ meters: 1, serialLines: 1 }, 'test')).toMatchObject({ capturePeriodS: 900, profileDepthDays: 60 });
    expect(() => parseFleetConfig({ meters: 1, serialLines: 1, capturePeriodS: 700 }, 'test')).toThrow(/capturePeriodS .*700 is not allowed; allowed: a divisor of a day/);
    expect(() => parseFleetConfig({ meters: 1, serialLines: 1, capturePeriodS: '60x' }, 'test')).toThrow(/--capture-period/);
  });
});
