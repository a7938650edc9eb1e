/**
 * CI's share of `npm run fuzz`: 100 000 inputs over every decoder, the meter side (HDLC and
 * wrapper stations, HDLC parameter negotiation, InitiateRequest in user-information, the GBT
 * server), the client against a hostile meter, HES command payloads and API bodies (any answer
 * that is not a typed error is a failure), with the trace vectors' APDUs as extra valid inputs
 * when the vectors are there. A failure prints its reproducer.
 * Deeply nested JSON (thousands of levels) is in the mix: HES payloads and API bodies refuse it
 * with a typed usage error stating the depth limit (it used to end in 'Maximum call stack size
 * exceeded', an untyped Internal error).
 */
import { existsSync } from 'node:fs';
import { formatReport, runFuzz } from '../../../bench/fuzz/core';
import { allVectorApdus } from '../../helpers/vector-apdus';
import { listVectorFiles, loadVectors, vectorsDir } from '../../helpers/vectors';

/** Fixed so CI is reproducible; FUZZ_SEED / FUZZ_N override it for a local campaign. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const N = Number(process.env.FUZZ_N ?? 100_000);

function vectorSeeds(): Record<string, Uint8Array[]> {
  if (!existsSync(vectorsDir())) return {};
  const apdus = Object.values(allVectorApdus()).flatMap((list) => list.map((v) => v.apdu));
  const frames = listVectorFiles().flatMap((f) => loadVectors(f).map((r) => r.bytes));
  return { apdu: apdus, ber: apdus.filter((a) => a[0] === 0x60 || a[0] === 0x61), hdlc: frames, 'server-hdlc': frames.slice(0, 200) };
}

describe('fuzz (CI share of npm run fuzz)', () => {
  it(`survives ${N} hostile inputs: only DcuError and typed answers, no input over 100 ms, heap growth under 64 MiB`, async () => {
    const report = await runFuzz({ n: N, seed: SEED, extraSeeds: vectorSeeds() });
    const lines = formatReport(report);
    if (report.failures.length > 0) console.error(lines.join('\n'));
    expect(report.failures.map((f) => `${f.reason} in ${f.target} at index ${f.index}: ${f.message.split('\n')[0] ?? ''}`)).toEqual([]);
    expect(report.inputs).toBe(N);
    for (const target of ['hdlc', 'wrapper', 'apdu', 'ciphered', 'axdr', 'ber', 'object-list', 'profile', 'server-hdlc', 'server-wrapper', 'hdlc-params', 'initiate', 'server-gbt', 'hes', 'api', 'client']) {
      expect(report.perTarget[target] ?? 0).toBeGreaterThan(0);
    }
  }, 420_000);
});
