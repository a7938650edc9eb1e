import { DataAccessResult, actionResultName, dataAccessResultName } from '../../protocol/apdu/results';
import type { Data } from '../../protocol/axdr/data';
import { formatDateTime } from '../../protocol/axdr/datetime';
import { dataToJson, parseDataJson } from '../../protocol/axdr/json';
import type { DlmsClient, GetOutcome } from '../../protocol/client/client';
import { clockSetResidual, setClockNow, type ClockSet } from '../../protocol/client/clock-set';
import { readClock, readObjectList, readProfile, setClock } from '../../protocol/client/reads';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { captureKey, isClockColumn } from '../../protocol/cosem/capture-object';
import { attributeName, className, findAttribute, parseAttributeRef, parseMethodRef, type CosemRef } from '../../protocol/cosem/classes';
import { CLOCK_STATUS_BIT_NAMES } from '../../protocol/cosem/classes/clock';
import { formatObis, parseObis, type Obis } from '../../protocol/cosem/obis';
import { obisName } from '../../protocol/cosem/obis-names';
import { attributeAccessName, methodAccessName } from '../../protocol/cosem/object-list';
import { encodeAccessSelector, rangeByEntry, rangeByTime } from '../../protocol/cosem/selective-access';
import { decodeScalerUnit, formatScaled, unitSymbol } from '../../protocol/cosem/units';
import type { MeterMetadataCache } from '../../protocol/client/meta-cache';
import { meaningOf, renderData, scalarText, table } from '../../common/render';
import { DEFAULT_META_CACHE_FILE } from './meta-cache';
import type { ProbeRequest } from './command';
import { describeInstant, parseRange, parseTypedInstant, type TypedInstant } from '../../common/instant';

/** What a command produced: text for people, a JSON document for programs, and whether it is a meter error. */
export interface CommandOutput {
  text: string;
  json: unknown;
  /** A meter-reported negative answer (exit code 5) — the output is still printed. */
  meterError?: DcuError;
  /** A line for stderr that does not fit the output format (CSV). */
  note?: string;
}

const usage = (m: string): DcuError => new DcuError(ErrorCode.Usage, m);

function parseEntries(text: string): { from: number; to: number } {
  const m = /^(\d+)\.\.(\d*)$/.exec(text);
  if (!m) throw usage(`--entries takes A..B (1-based, B empty = newest), e.g. --entries 1..96, got "${text}"`);
  const from = Number(m[1]);
  const to = m[2] === '' || m[2] === undefined ? 0 : Number(m[2]);
  if (from < 1 || (to !== 0 && to < from)) throw usage(`--entries ${text}: A must be ≥ 1 and B ≥ A`);
  return { from, to };
}

/** Everything that can be checked before touching the meter. */
export type PreparedRequest =
  | { command: 'objects' }
  | { command: 'get'; ref: CosemRef; access?: ReturnType<typeof encodeAccessSelector>; range?: Range }
  | { command: 'set'; ref: CosemRef; value: Data }
  | { command: 'action'; ref: CosemRef; value?: Data }
  | { command: 'clock'; set?: number | 'now'; /** How an ISO --set was read (zone rule). */ setAs?: string }
  | { command: 'profile'; obis: Obis; from?: number; to?: number; csv: boolean; range?: Range; cacheFile?: string; cache?: { store: MeterMetadataCache; key: string } };

type Range = { from: TypedInstant; to: TypedInstant };

/** Selective access (range or entries) exists for a profile buffer only: refuse it for a Register before the port opens. */
function requireProfileBuffer(ref: CosemRef, flag: string): void {
  if (ref.classId === 7 && ref.index === 2) return;
  throw usage(`${flag} selects rows of a profile buffer (7:OBIS:2); ${refText(ref)} is ${className(ref.classId) ?? `class ${ref.classId}`} ${attributeName(ref.classId, ref.index)} — drop ${flag}, or read e.g. 7:1.0.99.1.0.255:2`);
}

/** How --from/--to were understood (the zone rule made visible). */
function rangeText(range: Range | undefined): string {
  return range === undefined ? '' : `range ${describeInstant(range.from)} .. ${describeInstant(range.to)}\n`;
}

function rangeJson(range: Range | undefined): object {
  return range === undefined ? {} : { range: { from: describeInstant(range.from), to: describeInstant(range.to) } };
}

export function prepare(req: Exclude<ProbeRequest, { command: 'flash' }>): PreparedRequest {
  switch (req.command) {
    case 'objects':
      return req;
    case 'get': {
      const ref = parseAttributeRef(req.ref);
      if (req.entries !== undefined && (req.from !== undefined || req.to !== undefined)) throw usage('use either --from/--to or --entries, not both');
      if (req.entries !== undefined) {
        const e = parseEntries(req.entries);
        requireProfileBuffer(ref, '--entries');
        return { command: 'get', ref, access: encodeAccessSelector(rangeByEntry(e.from, e.to)) };
      }
      const range = parseRange(req.from, req.to);
      if (range !== undefined) {
        requireProfileBuffer(ref, '--from/--to');
        return { command: 'get', ref, access: encodeAccessSelector(rangeByTime(range.from.ms, range.to.ms)), range };
      }
      return { command: 'get', ref };
    }
    case 'set':
      return { command: 'set', ref: parseAttributeRef(req.ref), value: parseDataJson(req.value) };
    case 'action':
      return req.value === undefined ? { command: 'action', ref: parseMethodRef(req.ref) } : { command: 'action', ref: parseMethodRef(req.ref), value: parseDataJson(req.value) };
    case 'clock': {
      if (req.set === undefined) return { command: 'clock' };
      // The time is taken just before the SET is encoded, not here (setClockNow).
      if (req.set === 'now') return { command: 'clock', set: 'now' };
      const at = parseTypedInstant(req.set, '--set');
      return { command: 'clock', set: at.ms, setAs: describeInstant(at) };
    }
    case 'profile': {
      const o = parseObis(req.obis);
      const range = parseRange(req.from, req.to);
      if (req.cache === false && req.cacheFile !== undefined) throw usage('use either --no-cache or --cache-file, not both');
      const base = { command: 'profile' as const, obis: o, csv: req.csv, ...(req.cache === false ? {} : { cacheFile: req.cacheFile ?? DEFAULT_META_CACHE_FILE }) };
      return range !== undefined ? { ...base, from: range.from.ms, to: range.to.ms, range } : base;
    }
  }
}

/** "set to … (± X: …)": what `clock --set now` wrote and how far off the meter may still be. */
function describeClockSet(set: ClockSet, meterHasHundredths: boolean): { text: string; json: Record<string, unknown> } {
  const { residualMs, latencyUnknown } = clockSetResidual(set, meterHasHundredths);
  const residual = residualMs >= 1000 ? `${(residualMs / 1000).toFixed(1)} s` : `${residualMs} ms`;
  const why = [
    meterHasHundredths ? 'meter clock resolution 10 ms' : 'meter clock resolution 1 s',
    set.baudRate === undefined
      ? latencyUnknown
        ? 'network latency not compensated'
        : `latency ${set.latencyMs} ms compensated`
      : `request transfer ${Math.round(set.compensationMs)} ms compensated (${set.requestBytes} bytes at ${set.baudRate} baud)`,
  ];
  return {
    text: `set to       ${new Date(set.setTo).toISOString()} (± ${residual}: ${why.join(', ')})`,
    json: { setTo: new Date(set.setTo).toISOString(), setCompensationMs: Math.round(set.compensationMs), setResidualMs: residualMs, ...(latencyUnknown ? { setLatencyUnknown: true } : {}) },
  };
}

const refText = (r: CosemRef): string => `${r.classId}:${formatObis(r.obis)}:${r.index}`;

function outcomeJson(o: GetOutcome): unknown {
  return o.ok ? { value: dataToJson(o.data) } : { result: dataAccessResultName(o.result) };
}

/** Runs a prepared request on an associated client. */
export async function execute(client: DlmsClient, req: PreparedRequest): Promise<CommandOutput> {
  switch (req.command) {
    case 'objects': {
      const list = await readObjectList(client);
      const rows = list.map((e) => [
        `${e.classId} ${className(e.classId) ?? ''}`.trim(),
        String(e.version),
        formatObis(e.obis),
        obisName(e.obis) ?? '',
        e.attributeAccess.map((a) => `${a.index}:${attributeAccessName(a.mode)}`).join(' '),
        e.methodAccess.map((m) => `${m.index}:${methodAccessName(m.mode)}`).join(' '),
      ]);
      return {
        text: `${table(['class', 'ver', 'OBIS', 'name', 'attribute access', 'method access'], rows)}\n${list.length} objects`,
        json: list.map((e) => ({ classId: e.classId, version: e.version, obis: formatObis(e.obis), name: obisName(e.obis) ?? null, attributeAccess: e.attributeAccess, methodAccess: e.methodAccess })),
      };
    }
    case 'get': {
      const outcome = await client.get(req.ref, req.access);
      const head = `${refText(req.ref)} (${className(req.ref.classId) ?? `class ${req.ref.classId}`} ${obisName(req.ref.obis) ?? ''} ${attributeName(req.ref.classId, req.ref.index)})`.replace(/ +/g, ' ');
      if (!outcome.ok) {
        const err = new DcuError(ErrorCode.MeterDataAccess, `the meter refused GET ${refText(req.ref)}: ${dataAccessResultName(outcome.result)}`, { context: { service: 'get', ref: refText(req.ref), result: dataAccessResultName(outcome.result) } });
        return { text: `${head}\n  ${dataAccessResultName(outcome.result)}`, json: { ref: refText(req.ref), ...(outcomeJson(outcome) as object) }, meterError: err };
      }
      // Registers: show the scaled value with its unit next to the raw one.
      let scaled: string | undefined;
      if ([3, 4, 5].includes(req.ref.classId) && req.ref.index === (req.ref.classId === 5 ? 3 : 2)) {
        const su = await client.get({ ...req.ref, index: req.ref.classId === 5 ? 4 : 3 });
        const v = outcome.data;
        if (su.ok && 'value' in v && (typeof v.value === 'number' || typeof v.value === 'bigint')) {
          try {
            scaled = formatScaled(v.value, decodeScalerUnit(su.data));
          } catch {
            scaled = undefined;
          }
        }
      }
      const text = `${rangeText(req.range)}${head}\n${renderData(outcome.data, '  ', findAttribute(req.ref.classId, req.ref.index)?.type)}${scaled === undefined ? '' : `\n  = ${scaled}`}`;
      const meaning = meaningOf(outcome.data, findAttribute(req.ref.classId, req.ref.index)?.type);
      return { text, json: { ref: refText(req.ref), ...rangeJson(req.range), value: dataToJson(outcome.data), ...(meaning === undefined ? {} : { meaning }), ...(scaled === undefined ? {} : { scaled }) } };
    }
    case 'set': {
      const result = await client.set(req.ref, req.value);
      const name = dataAccessResultName(result);
      const out: CommandOutput = { text: `SET ${refText(req.ref)}: ${name}`, json: { ref: refText(req.ref), result: name } };
      if (result !== DataAccessResult.success) out.meterError = new DcuError(ErrorCode.MeterDataAccess, `the meter refused SET ${refText(req.ref)}: ${name}`, { context: { service: 'set', ref: refText(req.ref), result: name } });
      return out;
    }
    case 'action': {
      const o = await client.action(req.ref, req.value);
      const name = actionResultName(o.result);
      const ret = o.returnValue ? (o.returnValue.ok ? `\n${renderData(o.returnValue.data, '  ')}` : `\n  return: ${dataAccessResultName(o.returnValue.result)}`) : '';
      const out: CommandOutput = {
        text: `ACTION ${refText(req.ref)}: ${name}${ret}`,
        json: { ref: refText(req.ref), result: name, ...(o.returnValue ? { returnValue: outcomeJson(o.returnValue) } : {}) },
      };
      if (o.result !== 0) out.meterError = new DcuError(ErrorCode.MeterActionResult, `the meter refused ACTION ${refText(req.ref)}: ${name}`, { context: { service: 'action', ref: refText(req.ref), result: name } });
      return out;
    }
    case 'clock': {
      let setResult: string | undefined;
      let now: ClockSet | undefined;
      if (req.set !== undefined) {
        const r = req.set === 'now' ? (now = await setClockNow(client)).result : await setClock(client, req.set);
        setResult = dataAccessResultName(r);
        if (r !== DataAccessResult.success) {
          return { text: `set clock: ${setResult}`, json: { set: setResult }, meterError: new DcuError(ErrorCode.MeterDataAccess, `the meter refused the clock: ${setResult}`, { context: { service: 'set', ref: '8:0.0.1.0.0.255:2', result: setResult } }) };
        }
      }
      const c = await readClock(client);
      const driftS = c.driftMs === null ? null : c.driftMs / 1000;
      const lines = [
        `meter time   ${formatDateTime(c.dateTime, client.options.deviationConvention)}`,
        `this machine ${new Date(c.readAt).toISOString()}`,
        `drift        ${driftS === null ? 'unknown (meter sent wildcards)' : `${driftS >= 0 ? '+' : ''}${driftS.toFixed(1)} s (± ${(c.uncertaintyMs / 1000).toFixed(1)} s)`}`,
        `status       0x${(c.dateTime.clockStatus ?? 0xff).toString(16).padStart(2, '0')}${c.dateTime.clockStatus === null ? ' (not specified)' : ` (${meaningOf({ type: 'uint8', value: c.dateTime.clockStatus }, { kind: 'simple', type: 'uint8', flagNames: CLOCK_STATUS_BIT_NAMES }) ?? ''})`}`,
      ];
      const setNow = now === undefined ? undefined : describeClockSet(now, c.dateTime.hundredths !== null);
      if (setNow !== undefined) lines.unshift(setNow.text);
      if (setResult !== undefined) lines.unshift(`set clock: ${setResult}${req.setAs === undefined ? '' : ` (to ${req.setAs})`}`);
      return {
        text: lines.join('\n'),
        json: { meterTime: formatDateTime(c.dateTime, client.options.deviationConvention), meterEpoch: c.epoch === null ? null : new Date(c.epoch).toISOString(), readAt: new Date(c.readAt).toISOString(), driftSeconds: driftS, driftUncertaintySeconds: c.uncertaintyMs / 1000, clockStatus: c.dateTime.clockStatus, ...(setResult ? { set: setResult } : {}), ...(setNow?.json ?? {}) },
      };
    }
    case 'profile': {
      const p = await readProfile(client, req.obis, {
        ...(req.from !== undefined && req.to !== undefined ? { from: req.from, to: req.to } : {}),
        ...(req.cache === undefined ? {} : { cache: req.cache }),
      });
      // The clock column becomes the timestamp; the other columns follow with their units.
      const cols = p.captureObjects.map((co, i) => ({ co, i })).filter(({ co }) => !isClockColumn(co));
      const headers = [
        'timestamp',
        ...cols.map(({ co }) => {
          const su = p.scalers.get(captureKey(co));
          const name = obisName(co.obis) ?? formatObis(co.obis);
          return su ? `${name} [${unitSymbol(su.unit)}]` : name;
        }),
      ];
      const cellText = (r: (typeof p.rows)[number], i: number): string => {
        const c = r.cells[i];
        return c === undefined ? '' : (c.decimal ?? scalarText(c.raw));
      };
      const rows = p.rows.map((r) => [r.timestamp === null ? '?' : new Date(r.timestamp).toISOString(), ...cols.map(({ i }) => cellText(r, i))]);
      const text = req.csv
        ? [headers, ...rows].map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\n')
        : `${rangeText(req.range)}${table(headers, rows)}\n${p.rows.length} rows, capture period ${p.capturePeriod} s${p.metadata === 'cache-hit' ? ' (capture objects checked, scalers from the metadata cache)' : ''}`;
      return {
        text,
        ...(req.csv && (req.range?.from.local === true || req.range?.to.local === true) ? { note: rangeText(req.range).trimEnd() } : {}),
        json: {
          obis: formatObis(req.obis),
          ...rangeJson(req.range),
          capturePeriod: p.capturePeriod,
          metadata: p.metadata,
          columns: cols.map(({ co }) => ({ classId: co.classId, obis: formatObis(co.obis), attribute: co.attributeIndex, ...(p.scalers.has(captureKey(co)) ? { scalerUnit: p.scalers.get(captureKey(co)) } : {}) })),
          rows: p.rows.map((r) => ({
            timestamp: r.timestamp === null ? null : new Date(r.timestamp).toISOString(),
            rebuilt: r.rebuilt,
            values: cols.map(({ i }) => {
              const c = r.cells[i];
              return c === undefined ? null : (c.decimal ?? dataToJson(c.raw));
            }),
          })),
        },
      };
    }
  }
}
