/**
 * `npm run soak [-- --kills 50 --meters 8 --hours 4 --outage-every 4 --seed 7]`: dcud killed
 * with SIGKILL N times while it collects a simulated fleet and drains it to mosquitto, with
 * broker outages; then prints streams contiguous, values stored and never delivered,
 * duplicates by id, ids reused and integrity_check (see soak.ts). Exit code 1 on a gap, a lost
 * value, a reused id or a damaged store. Loopback only; bounded: at most 500 kills, 14 min.
 */
import { formatSoak, runSoak } from './soak';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function int(name: string, fallback: number, min: number, max: number): number {
  const text = arg(name);
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) {
    console.error(`soak: --${name} must be an integer ${min}..${max}, got "${text}"`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const kills = int('kills', 10, 0, 500);
  const meters = int('meters', 8, 1, 64);
  const hours = int('hours', 4, 1, 24);
  const outageEvery = int('outage-every', 4, 0, 1000);
  const seed = int('seed', 20261208, 0, 2 ** 31);
  console.log(`soak: ${kills} kills, ${meters} meters × ${hours} h of 1-min load profile, a broker outage every ${outageEvery || '—'} runs, seed ${seed}`);
  const report = await runSoak({ kills, meters, backfillHours: hours, outageEvery, seed, log: (l) => console.log(l) });
  for (const line of formatSoak(report)) console.log(line);
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
