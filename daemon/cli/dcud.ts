#!/usr/bin/env node
/**
 * `dcud` — the concentrator daemon. Declared in package.json so that installs lay out the
 * binary now; until the daemon lands (storage, registry, scheduler, collection) it says what
 * it will be and exits 2 rather than pretending to run.
 */
import { ExitCode } from './exit-codes';

export const NOT_YET =
  'dcud: the concentrator daemon (SQLite store, meter registry, scheduler, MQTT uplink) is not built yet.\n' +
  'Today: `dcu probe` talks to one meter, `dcu-sim` simulates a fleet, `npm start` runs the demo.\n';

if (require.main === module) {
  process.stderr.write(NOT_YET);
  process.exitCode = ExitCode.usage;
}
