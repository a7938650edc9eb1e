/**
 * `npm run fuzz [-- --n 1000000 --seed 42 --index 123 --only axdr,client]` (or FUZZ_N /
 * FUZZ_SEED): seeded fuzzing of every decoder, the meter side and the client against a hostile
 * meter. Prints a summary and a reproducer per failure; exit code 1 on any failure.
 */
import { formatReport, runFuzz } from './core';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

function int(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  const v = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < 0) {
    console.error(`fuzz: ${what} must be a non-negative integer, got "${text}"`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const n = int(arg('n') ?? process.env.FUZZ_N, 100_000, '--n / FUZZ_N');
  const seed = int(arg('seed') ?? process.env.FUZZ_SEED, Date.now() % 1_000_000, '--seed / FUZZ_SEED');
  const index = arg('index');
  const only = arg('only')?.split(',').filter((s) => s !== '');
  console.log(`fuzz: seed ${seed}${index === undefined ? `, ${n} inputs` : `, input ${index} only`} (replay with --seed ${seed})`);
  const report = await runFuzz({
    n,
    seed,
    ...(index === undefined ? {} : { index: int(index, 0, '--index') }),
    ...(only === undefined ? {} : { only }),
    reportEvery: 100_000,
    log: (line) => console.log(line),
  });
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
