/**
 * `dcu meters discovered`: what the discovery scans (lines[].discovery) found at addresses
 * the registry did not know, read from the store on this box, and whether each serial number
 * has been registered since. Registering a found meter is the HES's decision.
 */
import type { Command } from 'commander';
import { DiscoveryLog } from '../storage/discoveries';
import { EventLog } from '../storage/events';
import { MeterRepository } from '../storage/meters';
import { table } from '../common/render';
import { iso, openReadOnly, run, stateDirOf, type StoreIo } from './store-commands';

export function registerDiscovered(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  const meters = program.commands.find((c) => c.name() === 'meters') ?? program.command('meters');
  meters
    .command('discovered')
    .description('meters the discovery scans found at addresses not in the registry (lines[].discovery); they are not registered automatically')
    .option('--state <dir>', 'the daemon state directory (default $DCU_STATE_DIR or /var/lib/dcu)')
    .option('--json', 'print one JSON document')
    .action((opts: { state?: string; json?: boolean }) =>
      run(io, onExit, () => {
        const db = openReadOnly(stateDirOf(opts, io.env));
        try {
          const registry = new MeterRepository(db);
          const found = new DiscoveryLog(db, new EventLog(db)).list().map((d) => ({ ...d, registered: d.serialNumber !== undefined && registry.get(d.serialNumber) !== undefined }));
          io.out(
            opts.json === true
              ? JSON.stringify(found.map((d) => ({ ...d, at: iso(d.at) })), null, 2)
              : table(
                  ['found at', 'line', 'address', 'serial', 'logical device name', 'firmware', 'registered', 'note'],
                  found.map((d) => [iso(d.at), d.line, d.address, d.serialNumber ?? '-', d.logicalName ?? '-', d.firmwareId ?? '-', d.registered ? 'yes' : 'no', d.note ?? '']),
                ) + `\n${found.length} meter(s) found`,
          );
        } finally {
          db.close();
        }
      }),
    );
}
