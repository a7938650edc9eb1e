/**
 * The one loader for the hex traces in test/vectors (copied from the project's shared
 * vectors; test/vectors/README.md says where they come from): lines `TX:\t7E ... 7E`
 * (client → meter) and `RX:\t 7E ... 7E` (meter → client); other lines are the client's
 * printouts and are ignored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { concatBytes, fromHex } from '../../protocol/common/hex';

export type VectorDirection = 'TX' | 'RX';

export interface VectorRecord {
  /** TX = client → meter, RX = meter → client. */
  readonly dir: VectorDirection;
  readonly bytes: Uint8Array;
  /** 1-based line number in the log file. */
  readonly lineNo: number;
}

/** Directory of the trace vectors (override with DCU_VECTORS_DIR). */
export function vectorsDir(): string {
  return process.env.DCU_VECTORS_DIR ?? resolve(__dirname, '../vectors');
}

/** Names of the *.log files, sorted. */
export function listVectorFiles(): string[] {
  return readdirSync(vectorsDir())
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** Parses the text of one log into its TX/RX records, in file order. */
export function parseVectorLog(text: string): VectorRecord[] {
  const out: VectorRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const m = /^(TX|RX):\s*([0-9A-Fa-f]{2}(?:\s+[0-9A-Fa-f]{2})*)\s*$/.exec(line);
    if (!m) return;
    out.push({ dir: m[1] as VectorDirection, bytes: fromHex(m[2] ?? ''), lineNo: i + 1 });
  });
  return out;
}

/** Loads one log by file name (e.g. 'ln-hdlc-none-clock.log'). */
export function loadVectors(name: string): VectorRecord[] {
  return parseVectorLog(readFileSync(join(vectorsDir(), name), 'utf8'));
}

/** All bytes of one direction concatenated, as a receiver would see the stream. */
export function streamOf(records: readonly VectorRecord[], dir: VectorDirection): Uint8Array {
  return concatBytes(records.filter((r) => r.dir === dir).map((r) => r.bytes));
}
