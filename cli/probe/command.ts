import { Command, Option } from 'commander';
import type { FlashRequest } from './flash';
import type { ProbeFlags } from './target';

/** What a probe sub-command asked for, after commander. */
export type ProbeRequest =
  | { command: 'objects' }
  | { command: 'get'; ref: string; from?: string; to?: string; entries?: string }
  | { command: 'set'; ref: string; value: string }
  | { command: 'action'; ref: string; value?: string }
  | { command: 'clock'; set?: string }
  | { command: 'profile'; obis: string; from?: string; to?: string; csv: boolean; cache?: boolean; cacheFile?: string }
  | FlashRequest;

export type ProbeRunner = (flags: ProbeFlags, request: ProbeRequest) => Promise<void>;

const VALUE_HELP = `VALUE is Data in JSON notation: a one-key object naming the type, e.g.
  '{"uint16": 5}'  '{"octet-string": "0102FF"}'  '{"date-time": "2026-11-23T10:30:00+01:00"}'
  '{"structure": [{"uint8": 1}, {"visible-string": "abc"}]}'  (see README, "Data notation")`;

/** Registers `dcu probe …` on the program; the runner does the work. */
export function registerProbe(program: Command, run: ProbeRunner): Command {
  const probe = program
    .command('probe')
    .description("a technician's direct line to one meter (serial/optical probe, TCP or UDP)")
    .option('--serial <path>', 'serial device (RS-485 adapter, PLC/RF modem, optical probe)')
    .option('--baud <n>', 'serial baud rate (default 9600; with --mode-e the meter proposes it)')
    .option('--mode-e', 'open with IEC 62056-21 mode E first (optical probe: 300 baud 7E1 sign-on, then HDLC)')
    .option('--tcp <host:port>', 'meter or terminal server over TCP')
    .option('--udp <host:port>', 'meter over UDP')
    .addOption(new Option('--framing <kind>', 'framing (default: hdlc on serial, wrapper on TCP/UDP)').choices(['hdlc', 'wrapper']))
    .option('--client <n>', 'client address (default 16 public; 17 with --auth low; 1 with --auth high-gmac or high-sha256)')
    .option('--server <logical[/physical]>', 'server address: logical device and optional HDLC physical address (default 1)')
    .addOption(
      new Option('--auth <mechanism>', 'authentication: none, low (LLS password), high-gmac (HLS-GMAC keys) or high-sha256 (HLS-SHA256 secret)')
        .choices(['none', 'low', 'high-gmac', 'high-sha256'])
        .default('none'),
    )
    .option('--password <text|hex:HEX>', 'LLS password, as text or hex:HEX')
    .option('--secret <text|hex:HEX>', 'HLS-SHA256 secret, as text or hex:HEX (never printed)')
    .addOption(
      new Option('--security <policy>', 'ciphering of every APDU (default auth-enc with --auth high-gmac, or high-sha256 with keys; else none)').choices(['none', 'auth', 'enc', 'auth-enc']),
    )
    .option('--system-title <hex>', 'our client system title, 8 bytes hex (e.g. 4775727578313233; needed by high-gmac, high-sha256 and ciphering)')
    .option('--block-key <hex>', 'global unicast encryption key, 16 bytes hex (never printed)')
    .option('--auth-key <hex>', 'authentication key, 16 bytes hex (never printed)')
    .option('--invocation-counter <n>', 'next invocation counter to use (default: from the counter file, else read from the meter as the public client)')
    .option('--counter-file <path>', 'where invocation counters persist (default ~/.dcu/counters.json)')
    .option('--dedicated-key', 'use a fresh random dedicated key for this association (ded- APDUs)')
    .option('--timeout <ms>', 'response timeout per frame in milliseconds (default 5000)')
    .option('--retries <n>', 'retransmissions per frame before giving up (default 3)')
    .option('--no-gbt', 'do not propose general block transfer (workaround for meters with a faulty GBT)')
    .option('--json', 'print one JSON document instead of tables')
    .option('--verbose', 'log the link (frame hex at trace level) to stderr')
    .addHelpText(
      'after',
      `\nExamples:
  dcu probe --serial /dev/ttyUSB0 --server 1/17 objects
  dcu probe --tcp 10.0.0.5:4059 get 3:1.0.1.8.0.255:2
  dcu probe --serial /dev/ttyUSB0 --mode-e --auth low --password 00000000 clock
  dcu probe --tcp 10.0.0.5:4059 --client 1 --auth high-gmac --system-title 4775727578313233 \\
      --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF clock
  dcu probe --tcp 10.0.0.5:4059 --client 1 --auth high-sha256 --secret hex:3132333435363738 \\
      --system-title 4775727578313233 clock            (add --block-key/--auth-key to cipher)
  dcu probe --tcp 127.0.0.1:4059 --auth low --password 00000000 profile 1.0.99.1.0.255 \\
      --from 2026-11-22T00:00Z --to 2026-11-23T00:00Z --csv
  dcu probe --serial /dev/ttyUSB0 --server 1/17 --client 1 --auth high-gmac --system-title 4443553030303031 \\
      --block-key 000102030405060708090A0B0C0D0E0F --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF \\
      flash meter-fw-2.1.bin --activate   (add --mode-e through the optical probe; run again to resume)

Date-times without a UTC offset (--from, --to, clock --set) are this machine's local time
(TZ); the output shows how they were read.

Exit codes: 0 ok, 2 usage, 3 transport/timeout, 4 association refused/auth failed,
5 meter-reported error, 6 malformed answer, 7 storage (counter file), 1 internal error.`,
    );

  const flags = (cmd: Command): ProbeFlags => cmd.optsWithGlobals<ProbeFlags>();

  probe
    .command('objects')
    .description('list the objects of the association (Association LN object_list)')
    .action((_opts: unknown, cmd: Command) => run(flags(cmd), { command: 'objects' }));

  probe
    .command('get')
    .description('read an attribute: CLASS:OBIS:ATTR, e.g. 3:1.0.1.8.0.255:2 or 8:0-0:1.0.0*255:2')
    .argument('<ref>', 'CLASS:OBIS:ATTR')
    .option('--from <iso>', 'range start for profile buffers (selective access by range; no offset: local time)')
    .option('--to <iso>', 'range end for profile buffers')
    .option('--entries <a..b>', 'entries A to B of a profile buffer (1-based; B empty = last)')
    .action((ref: string, o: { from?: string; to?: string; entries?: string }, cmd: Command) =>
      run(flags(cmd), { command: 'get', ref, ...o }),
    );

  probe
    .command('set')
    .description('write an attribute')
    .argument('<ref>', 'CLASS:OBIS:ATTR')
    .argument('<value>', 'Data in JSON notation')
    .addHelpText('after', `\n${VALUE_HELP}`)
    .action((ref: string, value: string, _o: unknown, cmd: Command) => run(flags(cmd), { command: 'set', ref, value }));

  probe
    .command('action')
    .description('invoke a method: CLASS:OBIS:METHOD, e.g. 70:0.0.96.3.10.255:1 (remote disconnect)')
    .argument('<ref>', 'CLASS:OBIS:METHOD')
    .argument('[value]', 'method parameter, Data in JSON notation (default null-data)')
    .addHelpText('after', `\n${VALUE_HELP}`)
    .action((ref: string, value: string | undefined, _o: unknown, cmd: Command) =>
      run(flags(cmd), value === undefined ? { command: 'action', ref } : { command: 'action', ref, value }),
    );

  probe
    .command('clock')
    .description("read the meter clock and its drift against this machine's clock")
    .option('--set <when>', 'set the clock: "now" (this machine\'s time) or an ISO date-time (no offset: local time)')
    .action((o: { set?: string }, cmd: Command) => run(flags(cmd), o.set === undefined ? { command: 'clock' } : { command: 'clock', set: o.set }));

  probe
    .command('profile')
    .description('read a profile (load profile 1.0.99.1.0.255, daily 1.0.99.2.0.255, events …) as rows')
    .argument('<obis>', 'profile generic OBIS code')
    .option('--from <iso>', 'range start (default: whole buffer; no offset: local time)')
    .option('--to <iso>', 'range end')
    .option('--csv', 'print CSV instead of a table')
    .option('--no-cache', 'read capture objects and scalers from the meter, do not use or update the metadata cache')
    .option('--cache-file <path>', 'per-meter metadata cache (default ~/.dcu/meta-cache.json)')
    .action((obis: string, o: { from?: string; to?: string; csv?: boolean; cache?: boolean; cacheFile?: string }, cmd: Command) =>
      run(flags(cmd), {
        command: 'profile',
        obis,
        ...(o.from === undefined ? {} : { from: o.from }),
        ...(o.to === undefined ? {} : { to: o.to }),
        csv: o.csv === true,
        ...(o.cache === false ? { cache: false } : {}),
        ...(o.cacheFile === undefined ? {} : { cacheFile: o.cacheFile }),
      }),
    );

  probe
    .command('flash')
    .description('transfer a firmware image to the meter (Image transfer, IC 18): resumes an interrupted transfer, verifies, optionally activates')
    .argument('<image>', "the vendor's image file")
    .option('--identifier <text|hex:HEX>', "image identifier sent with image_transfer_initiate (default: the first 16 hex digits of the file's SHA-256; a chosen one must change whenever the file does, or a resume mixes two images)")
    .option('--activate', 'activate the image once verified (default: transfer and verify only)')
    .option('--block-size <n>', "block size when the meter does not give image_block_size (the meter's own is used otherwise)")
    .addHelpText(
      'after',
      `\nThe management client with HLS is usually needed (--client 1 --auth high-gmac …). Interrupted
(cable pulled, Ctrl-C)? Run the same command again: the meter keeps the blocks it has and only
the missing ones are sent. A meter holding part of another image starts over. Progress: a bar on
a terminal, a line per 10 % otherwise, one JSON line per block with --json.`,
    )
    .action((image: string, o: { identifier?: string; activate?: boolean; blockSize?: string }, cmd: Command) =>
      run(flags(cmd), {
        command: 'flash',
        image,
        activate: o.activate === true,
        ...(o.identifier === undefined ? {} : { identifier: o.identifier }),
        ...(o.blockSize === undefined ? {} : { blockSize: o.blockSize }),
      }),
    );

  return probe;
}
