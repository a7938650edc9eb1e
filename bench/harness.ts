import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One figure a benchmark reports. Goals are stated next to the figure, never asserted. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: string;
  detail?: Record<string, unknown>;
}

export interface Bench {
  name: string;
  run(): Promise<Figure[]> | Figure[];
}

/** Runs fn repeatedly for about `ms` milliseconds (after a warm-up) and returns ops/s. */
export function opsPerSecond(fn: () => void, ms = 1000): { opsPerSec: number; iterations: number } {
  const warmEnd = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmEnd) fn();
  let iterations = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 10; i++) fn();
    iterations += 10;
    now = performance.now();
  }
  return { opsPerSec: (iterations * 1000) / (now - start), iterations };
}

export function throughputMBps(bytesPerOp: number, fn: () => void, ms = 1000): Figure['value'] {
  const { opsPerSec } = opsPerSecond(fn, ms);
  return (opsPerSec * bytesPerOp) / 1e6;
}

export function writeResults(dir: string, bench: string, figures: Figure[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${bench}.json`);
  const doc = {
    bench,
    at: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    figures,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}

export function printFigures(bench: string, figures: Figure[]): void {
  console.log(`\n## ${bench}`);
  for (const f of figures) {
    const v = f.value >= 100 ? f.value.toFixed(0) : f.value >= 1 ? f.value.toFixed(2) : f.value.toPrecision(3);
    console.log(`  ${f.name.padEnd(58)} ${v.padStart(10)} ${f.unit}${f.goal ? `   (goal ${f.goal})` : ''}`);
  }
}
