/**
 * `dcu firmware campaign status ID --watch` in process: a line per change when not on a
 * terminal, a redrawn view on a terminal, NDJSON with --json; exit 0 all OK, 5 a meter KO,
 * 2 no such campaign, 3 the daemon gone for good; a daemon restart in the middle is waited for.
 */
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { frame, watchCampaign, type WatchOptions } from '../../cli/firmware-watch';

type Doc = Record<string, unknown>;
const bytes = (sent: number, size = 1000): Doc => ({ imageBytes: size, imageBytesSent: sent, ratio: sent / size, lineBytesSent: sent + 300, lineBytesReceived: 200, overheadBytes: 500 });
const status = (state: string, meters: [string, string, number, string | null][]): Doc => ({
  campaign: 'c1',
  image: 'img',
  state,
  deadline: '2026-12-08T00:00:00.000Z',
  counts: meters.reduce<Record<string, number>>((c, [, s]) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {}),
  meters: meters.map(([meter, s, progress, reason]) => ({ meter, state: s, progress, attempts: reason === null ? 0 : 1, reason, detail: reason === null ? null : 'no answer', line: 'line0', bytes: bytes(progress * 10) })),
  fieldWorkOrder: [],
  lines: [{ line: 'line0', meters: meters.length, bytes: bytes(meters.reduce((n, m) => n + m[2] * 10, 0), 1000 * meters.length) }],
});

function harness(answers: (Doc | Error)[], o: Partial<WatchOptions> = {}): { run: () => Promise<number>; out: string[]; err: string[]; raw: string[] } {
  let now = Date.UTC(2026, 11, 1, 22);
  const out: string[] = [];
  const err: string[] = [];
  const raw: string[] = [];
  let i = 0;
  const fetch = (): Promise<Doc> => {
    const a = answers[Math.min(i++, answers.length - 1)] as Doc | Error;
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  const opts: WatchOptions = { fetch, tty: false, json: false, intervalMs: 1000, sleep: (ms) => ((now += ms), Promise.resolve()), now: () => now, ...o };
  return { run: () => watchCampaign(opts, { out: (t) => out.push(t), err: (t) => err.push(t), write: (t) => raw.push(t) }), out, err, raw };
}

describe('dcu firmware campaign status --watch', () => {
  const running1 = status('running', [['A', 'transferring', 10, null], ['B', 'queued', 0, null]]);
  const running2 = status('running', [['A', 'transferring', 50, null], ['B', 'queued', 0, null]]);
  const doneOk = status('done', [['A', 'OK', 100, null], ['B', 'OK', 100, null]]);
  const doneKo = status('done', [['A', 'OK', 100, null], ['B', 'KO', 0, 'unreachable']]);

  it('prints a line per change, not per poll, and exits 0 when every meter is OK', async () => {
    const h = harness([running1, running1, running1, running2, doneOk]);
    expect(await h.run()).toBe(0);
    expect(h.out[0]).toMatch(/^c1 {2}image img {2}running .*: 2 meter\(s\)$/);
    const aLines = h.out.filter((l) => /\bA {2}/.test(l));
    expect(aLines.map((l) => / A {2}(\S+) {2}(\d+) %/.exec(l)?.slice(1).join(' '))).toEqual(['transferring 10', 'transferring 50', 'OK 100']);
    expect(h.out.filter((l) => /\bB {2}/.test(l))).toHaveLength(2); // queued, OK
    expect(h.out).toContainEqual(expect.stringMatching(/campaign done: 2 OK$/));
    expect(h.out).toContainEqual(expect.stringMatching(/^line0: 2 meter\(s\), image 2\.0 kB sent of 2\.0 kB \(×1\.000, goal ≤ 1\.1\), overhead 500 B \(0\.25 per image byte\)$/));
  });

  it('exits 5 when a meter ended KO, with its reason', async () => {
    const h = harness([running1, doneKo]);
    expect(await h.run()).toBe(5);
    expect(h.out).toContainEqual(expect.stringMatching(/ B {2}KO {2}0 % {2}attempts 1 .*unreachable: no answer$/));
  });

  it('redraws the view in place on a terminal', async () => {
    const h = harness([running1, running2, doneKo], { tty: true, rows: 30, columns: 200 });
    expect(await h.run()).toBe(5);
    expect(h.raw).toHaveLength(3);
    expect(h.raw[0]).not.toContain('\x1b[');
    const lines = (h.raw[0] ?? '').split('\n').length - 1;
    expect(h.raw[1]?.startsWith(`\x1b[${lines}F\x1b[J`)).toBe(true);
    expect(h.raw[1]).toMatch(/A {12}transferring \[##########\.{10}\] {2}50 %/);
    expect(h.raw[2]).toMatch(/B {12}KO .* unreachable/);
    expect(h.out).toEqual([]);
  });

  it('keeps a big campaign within the terminal, working meters first', () => {
    const many = status('running', [...Array.from({ length: 50 }, (_, i): [string, string, number, null] => [`M${String(i).padStart(3, '0')}`, 'OK', 100, null]), ['Z1', 'transferring', 40, null]]);
    const view = frame(many, 'now', 12, 80);
    expect(view.length).toBeLessThanOrEqual(12);
    expect(view[2]).toMatch(/^Z1 /);
    expect(view).toContainEqual(expect.stringMatching(/^… \d+ more meter\(s\)$/));
    expect(view.every((l) => l.length <= 80)).toBe(true);
  });

  it('prints one JSON document per change with --json', async () => {
    const h = harness([running1, running1, doneOk], { json: true });
    expect(await h.run()).toBe(0);
    expect(h.out.map((l) => (JSON.parse(l) as Doc).state)).toEqual(['running', 'done']);
  });

  it('waits for a restarting daemon, and gives up after giveUpMs', async () => {
    const gone = new DcuError(ErrorCode.TransportOpenFailed, 'the daemon is not reachable');
    const back = harness([running1, gone, gone, doneOk]);
    expect(await back.run()).toBe(0);
    expect(back.err).toEqual([expect.stringMatching(/not reachable; waiting for it/)]);
    expect(back.out).toContainEqual(expect.stringMatching(/the daemon answers again/));
    const never = harness([running1, gone], { giveUpMs: 5000 });
    expect(await never.run()).toBe(3);
  });

  it('exits 2 for a campaign the daemon does not know', async () => {
    const h = harness([new DcuError(ErrorCode.Usage, 'no firmware campaign c9; list them with dcu firmware campaign list')]);
    expect(await h.run()).toBe(2);
    expect(h.err).toEqual([expect.stringMatching(/no firmware campaign c9/)]);
  });
});
