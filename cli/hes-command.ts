/**
 * `dcu hes` — a console for HES integrators: the concentrator seen from the broker, as the
 * HES sees it (docs/asyncapi.yaml).
 *
 *   dcu hes --broker mqtts://broker:8883 --dcu dcu-0001 --ca ca.pem watch [--ack] [--json]
 *   dcu hes --broker mqtt://127.0.0.1:1883 --dcu dcu-0001 read SIM000001 --what registers
 *   dcu hes --broker … --dcu … send meters '{"line": "plc0"}'
 *
 * Exit: 0 ok · 2 usage or the command refused · 3 broker unreachable, connection lost or no
 * answer in time · 5 a meter FAILed.
 */
import type { Command } from 'commander';
import type { MqttClient } from 'mqtt';
import { parseDuration } from '../config/units';
import { DcuError, ErrorCode, isDcuError } from '../protocol/common/errors';
import { READ_WHAT } from '../daemon/jobs/request';
import type { OnDemandResult } from '../daemon/jobs/on-demand';
import { ExitCode, exitCodeFor } from '../common/exit-codes';
import { AckTracker, connectHes, decodePayload, describe, sendCommand, type Answer, type BrokerOptions } from './hes-client';
import { resultText } from './read-command';
import type { StoreIo } from './store-commands';

interface HesOptions {
  broker: string;
  dcu: string;
  prefix?: string;
  usernameFile?: string;
  passwordFile?: string;
  ca?: string;
  cert?: string;
  key?: string;
  protocol: string;
  timeout: string;
  json?: boolean;
}

function brokerOptions(o: HesOptions): BrokerOptions {
  if (o.protocol !== '5' && o.protocol !== '3.1.1') throw new DcuError(ErrorCode.Usage, `--protocol must be 5 or 3.1.1; got "${o.protocol}"`);
  return {
    broker: o.broker,
    protocol: o.protocol,
    connectTimeoutMs: 10_000,
    ...(o.usernameFile === undefined ? {} : { usernameFile: o.usernameFile }),
    ...(o.passwordFile === undefined ? {} : { passwordFile: o.passwordFile }),
    ...(o.ca === undefined ? {} : { ca: o.ca }),
    ...(o.cert === undefined ? {} : { cert: o.cert }),
    ...(o.key === undefined ? {} : { key: o.key }),
  };
}
const prefixOf = (o: HesOptions): string => o.prefix ?? `dcu/${o.dcu}/`;
function timeoutMs(o: HesOptions): number {
  const t = parseDuration(o.timeout);
  if (t === undefined || t <= 0) throw new DcuError(ErrorCode.Usage, `--timeout must be a duration such as 90s or 5m; got "${o.timeout}"`);
  return t;
}

/** Runs `body` with a connected client; DcuErrors become a message and their exit code. */
async function withBroker(io: StoreIo, onExit: (code: number) => void, o: HesOptions, body: (client: MqttClient) => Promise<number>): Promise<void> {
  let client: MqttClient | undefined;
  try {
    client = await connectHes(brokerOptions(o));
    onExit(await body(client));
  } catch (e) {
    io.err(`dcu hes: ${e instanceof Error ? e.message : String(e)}`);
    onExit(isDcuError(e) ? exitCodeFor(e) : ExitCode.internal);
  } finally {
    await client?.endAsync().catch(() => undefined);
  }
}

/** Prints answers (text or JSON lines) and folds them into an exit code. */
function answerPrinter(io: StoreIo, json: boolean): { print: (a: Answer) => void; code: () => number } {
  let code: number = ExitCode.ok;
  return {
    code: () => code,
    print: (a) => {
      if (a.type === 'error') code = a.error === undefined ? ExitCode.usage : exitCodeFor(new DcuError(a.error.code as ErrorCode, a.error.message));
      if (a.type === 'result' && (a.result as OnDemandResult | undefined)?.status === 'FAIL' && code === ExitCode.ok) code = ExitCode.meter;
      if (json) return io.out(JSON.stringify(a));
      switch (a.type) {
        case 'accepted':
          return io.out(`accepted: job ${String(a.job)}, ${String(a.meters)} meter(s)${a.created === false ? ' (the job existed already)' : ''}`);
        case 'result':
          return io.out(resultText(a.result as OnDemandResult));
        case 'done':
          return io.out(`done: job ${String(a.job)} ${String(a.state)} — EXE ${String(a.exe)}, WARN ${String(a.warn)}, FAIL ${String(a.fail)}, cancelled ${String(a.cancelled)}`);
        case 'error':
          return io.err(`dcu hes: ${String(a.command)} refused: ${a.error?.name ?? 'error'} (${a.error?.code ?? '?'}): ${a.error?.message ?? ''}`);
        default:
          return io.out(JSON.stringify(a));
      }
    },
  };
}

async function watch(io: StoreIo, client: MqttClient, o: HesOptions & { ack?: boolean; share?: string; count?: string }): Promise<number> {
  const prefix = prefixOf(o);
  const limit = o.count === undefined ? Infinity : Number(o.count);
  const acks = new AckTracker();
  let seen = 0;
  let stopped = false;
  return new Promise<number>((resolve) => {
    const stop = (code: number): void => {
      if (stopped) return;
      stopped = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = (): void => stop(ExitCode.ok);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    client.on('close', () => {
      if (stopped) return;
      io.err(`dcu hes: the broker ${o.broker} closed the connection`);
      stop(ExitCode.transport);
    });
    client.on('message', (topic, payload) => {
      const m = decodePayload(payload);
      io.out(o.json === true ? JSON.stringify({ topic, message: m ?? payload.toString('base64') }) : describe(topic, m, payload.length));
      const at = topic.lastIndexOf('/data/');
      if (o.ack === true && at >= 0 && m?.seq !== undefined && typeof m.class === 'string') {
        const upTo = acks.received(m.class, m.seq.first, m.seq.last);
        if (upTo !== undefined) client.publish(`${topic.slice(0, at)}/ack`, JSON.stringify({ stream: m.class, seq: upTo }), { qos: 1 });
      }
      if (at >= 0 && ++seen >= limit) stop(ExitCode.ok);
    });
    const data = `${prefix}data/#`;
    client
      .subscribeAsync([`${prefix}status`, o.share === undefined ? data : `$share/${o.share}/${data}`], { qos: 1 })
      .then(() => {
        if (o.json !== true) io.err(`watching ${prefix}status and ${data}${o.share === undefined ? '' : ` (share group ${o.share})`}${o.ack === true ? ', acknowledging on ack' : ''}; Ctrl-C to stop`);
      })
      .catch((e: unknown) => {
        io.err(`dcu hes: cannot subscribe: ${e instanceof Error ? e.message : String(e)}`);
        stop(ExitCode.transport);
      });
  });
}

export function registerHes(program: Command, onExit: (code: number) => void, io: StoreIo): void {
  const hes = program
    .command('hes')
    .description('the concentrator seen from the HES broker: watch data and status, send commands (docs/asyncapi.yaml)')
    .requiredOption('--broker <url>', 'the broker, e.g. mqtts://broker.example:8883 (no credentials in the URL)')
    .requiredOption('--dcu <id>', 'the concentrator id (topics dcu/<id>/…; + for every concentrator with watch)')
    .option('--prefix <topic>', 'topic prefix instead of dcu/<id>/ (mqtt.topicPrefix of the concentrator)')
    .option('--username-file <file>', 'file holding the user name')
    .option('--password-file <file>', 'file holding the password')
    .option('--ca <file>', 'CA certificate (PEM) of the broker')
    .option('--cert <file>', 'client certificate (PEM)')
    .option('--key <file>', 'client key (PEM)')
    .option('--protocol <version>', 'MQTT 5 or 3.1.1', '5')
    .option('--timeout <duration>', 'how long read and send wait for the last answer', '2m')
    .option('--json', 'one JSON document per line');
  hes
    .command('watch')
    .description('print data and status messages as they arrive: topic, class, seq range, item count')
    .option('--ack', 'acknowledge on ack (for a concentrator with mqtt.appAck): cumulative, only without gaps')
    .option('--share <group>', 'subscribe to the data as a member of an MQTT 5 share group ($share/<group>/…)')
    .option('--count <n>', 'stop after n data messages')
    .action(async (opts: { ack?: boolean; share?: string; count?: string }, cmd: Command) => {
      const o = { ...cmd.optsWithGlobals<HesOptions>(), ...opts };
      await withBroker(io, onExit, o, (client) => watch(io, client, o));
    });
  hes
    .command('read <serial...>')
    .description('an on-demand read: prints accepted, each meter result (EXE/WARN/FAIL) and done')
    .option('--what <list>', `comma-separated: ${READ_WHAT.join(', ')} or CLASS:OBIS:ATTR`, 'registers,clock')
    .option('--deadline <when>', 'no attempt after this (ISO instant or a duration such as 10m)')
    .action(async (serials: string[], opts: { what: string; deadline?: string }, cmd: Command) => {
      const o = cmd.optsWithGlobals<HesOptions>();
      const body = { meters: serials, what: opts.what.split(',').map((w) => w.trim()).filter((w) => w !== ''), ...(opts.deadline === undefined ? {} : { deadline: opts.deadline }) };
      await withBroker(io, onExit, o, async (client) => {
        const p = answerPrinter(io, o.json === true);
        await sendCommand(client, prefixOf(o), 'read', body, timeoutMs(o), p.print);
        return p.code();
      });
    });
  hes
    .command('send <name> [json]')
    .description('send any command (read, plan, cancel, meter-add, meters, status, …) and print its answers until the last')
    .action(async (name: string, text: string | undefined, _opts: unknown, cmd: Command) => {
      const o = cmd.optsWithGlobals<HesOptions>();
      let body: unknown;
      try {
        body = JSON.parse(text ?? '{}');
      } catch (e) {
        io.err(`dcu hes send: the JSON argument does not parse (${e instanceof Error ? e.message : String(e)}); quote it, e.g. '{"line": "plc0"}'`);
        onExit(ExitCode.usage);
        return;
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        io.err('dcu hes send: the command must be a JSON object, e.g. \'{"meters": ["SIM000001"], "what": ["registers"]}\'');
        onExit(ExitCode.usage);
        return;
      }
      await withBroker(io, onExit, o, async (client) => {
        const p = answerPrinter(io, true);
        await sendCommand(client, prefixOf(o), name, body as Record<string, unknown>, timeoutMs(o), p.print);
        return p.code();
      });
    });
}
