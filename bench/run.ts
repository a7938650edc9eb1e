import { join } from 'node:path';
import type { Bench } from './harness';
import { printFigures, writeResults } from './harness';
import { fleetStartupBench } from './fleet-startup';
import { securityBench } from './security';
import { linkEfficiencyBench } from './link-efficiency';
import { protocolDecodeBench } from './protocol-decode';
import { storeIngestBench } from './store-ingest';
import { drainBench } from './drain';
import { collectionCycleBench } from './collection-cycle';
import { dcudMemoryBench } from './dcud-memory';
import { wanBytesBench } from './wan-bytes';
import { firmwareBench } from './firmware';

/** `npm run bench [name…]`: runs the benchmarks, prints figures, writes bench/results/<name>.json. */
const BENCHES: Bench[] = [protocolDecodeBench, securityBench, linkEfficiencyBench, fleetStartupBench, storeIngestBench, collectionCycleBench, dcudMemoryBench, drainBench, wanBytesBench, firmwareBench];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const resultsDir = join(__dirname, '..', '..', 'bench', 'results');
  for (const b of BENCHES) {
    if (wanted.length > 0 && !wanted.includes(b.name)) continue;
    const figures = await b.run();
    printFigures(b.name, figures);
    console.log(`  → ${writeResults(resultsDir, b.name, figures)}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
