/**
 * HES commands (`cmd/<name>` over MQTT; the same handler serves any transport): each payload
 * is checked — size, JSON, the command's JSON Schema, expiry, then the facts (meters, lines)
 * — before anything happens, so a bad command changes nothing and gets one typed error
 * naming the problem. Reads, plans and clock synchronisations become jobs (the scheduler);
 * registry commands change the registry in one transaction.
 *
 * Envelope fields every command may carry: `replyTo` and `correlationId` (MQTT 3.1.1, where
 * the protocol has no response topic), `expiresAt` (ISO: refused after it, so a command
 * queued for hours during an outage is not executed late; MQTT 5 message expiry does the
 * same in the broker).
 */
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Config, MeterConfig } from '../../config/schema';
import { meterProblems, remoteKeysProblems, schemaProblems } from '../../config/validate';
import type { Clock } from '../../protocol/common/clock';
import { DcuError, ErrorCode, errorCodeName, isDcuError } from '../../protocol/common/errors';
import type { Logger } from '../../protocol/common/log';
import type { MeterRecord, MeterRepository } from '../../storage/meters';
import { JobRequestSchema } from '../jobs/request';
import type { Scheduler } from '../jobs/scheduler';
import { FIRMWARE_COMMAND_BODIES, runFirmwareCommand, type Firmware } from '../firmware/commands';
import { parseJsonLimited, replyTopicProblem, topicPrefixOf } from '../input-limits';

export const MAX_COMMAND_BYTES = 64 * 1024;

const ISO = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';
const Envelope = {
  replyTo: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'topic for the answers (MQTT 3.1.1)' })),
  correlationId: Type.Optional(Type.String({ maxLength: 128, description: 'echoed in every answer (MQTT 3.1.1)' })),
  expiresAt: Type.Optional(Type.String({ pattern: ISO, description: 'refused after this instant' })),
};
const command = <P extends TProperties>(props: P, description: string): TObject<P & typeof Envelope> => Type.Object({ ...props, ...Envelope }, { additionalProperties: false, description });

const jobProps = JobRequestSchema.properties;
const Serial = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$' });
const Selection = { meters: jobProps.meters, lines: jobProps.lines, all: jobProps.all };

/** Every command's JSON Schema (docs/asyncapi.yaml embeds the same). */
export const COMMAND_SCHEMAS = {
  read: command({ ...jobProps, kind: Type.Optional(Type.Literal('read')) }, 'an on-demand read: accepted at once with the job id, then one result per meter, then done'),
  plan: command({ ...jobProps, kind: Type.Optional(Type.Literal('plan')) }, 'a mass plan: accepted with the job id; results on data/results'),
  cancel: command({ job: Type.String({ minLength: 1, maxLength: 64 }) }, 'cancel a job'),
  'meter-add': command({ meter: Type.Unknown({ description: 'a meter as in the configuration (serial, line, address, client, auth, …)' }) }, 'register a meter'),
  'meter-update': command({ serial: Serial, changes: Type.Record(Type.String(), Type.Unknown(), { description: 'the keys to change' }) }, 'change a registered meter'),
  'meter-remove': command({ serial: Serial }, 'remove a meter from the registry (its stored data stays)'),
  meters: command({ line: Type.Optional(Type.String()), stage: Type.Optional(Type.Union([Type.Literal('registered'), Type.Literal('linked'), Type.Literal('commissioned')])) }, 'list registered meters with their states'),
  'clock-sync': command({ ...Selection, id: jobProps.id, deadline: jobProps.deadline, priority: jobProps.priority }, 'set meter clocks now (a job)'),
  status: command({}, "the concentrator's health"),
  'fw-image': command(FIRMWARE_COMMAND_BODIES['fw-image'].props, FIRMWARE_COMMAND_BODIES['fw-image'].description),
  'fw-campaign-create': command(FIRMWARE_COMMAND_BODIES['fw-campaign-create'].props, FIRMWARE_COMMAND_BODIES['fw-campaign-create'].description),
  'fw-campaign-status': command(FIRMWARE_COMMAND_BODIES['fw-campaign-status'].props, FIRMWARE_COMMAND_BODIES['fw-campaign-status'].description),
  'fw-campaign-cancel': command(FIRMWARE_COMMAND_BODIES['fw-campaign-cancel'].props, FIRMWARE_COMMAND_BODIES['fw-campaign-cancel'].description),
  'fw-campaign-retry': command(FIRMWARE_COMMAND_BODIES['fw-campaign-retry'].props, FIRMWARE_COMMAND_BODIES['fw-campaign-retry'].description),
  'fw-campaign-activate': command(FIRMWARE_COMMAND_BODIES['fw-campaign-activate'].props, FIRMWARE_COMMAND_BODIES['fw-campaign-activate'].description),
} as const;

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = Object.fromEntries(COMMAND_NAMES.map((n) => [n, ajv.compile(COMMAND_SCHEMAS[n])])) as Record<CommandName, ValidateFunction>;

export interface ReplyVia {
  readonly replyTo?: string;
  readonly correlationId?: string;
}
/** Sends one answer; `via` carries the payload's reply fields (MQTT 3.1.1). */
export type Reply = (doc: Record<string, unknown>, via: ReplyVia) => void;

export interface HesCommandDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scheduler: Pick<Scheduler, 'submit' | 'cancel' | 'on' | 'jobs'>;
  readonly meters: MeterRepository;
  /** The health snapshot the `status` command answers. */
  readonly status: () => Record<string, unknown>;
  /** Firmware images and campaigns (fw-* commands). */
  readonly firmware?: Firmware;
}

function meterSummary(m: MeterRecord): Record<string, unknown> {
  return { serial: m.serial, line: m.line, address: m.address, source: m.source, stage: m.state.stage, reachability: m.state.reachability, lastSeen: m.state.lastSeen, firmwareId: m.state.identity.firmwareId ?? null, lastError: m.state.lastError };
}

/** A registered meter as a configuration entry (for meter-update's merge). */
function asConfig(m: MeterRecord): Record<string, unknown> {
  return { serial: m.serial, line: m.line, address: m.address, ...m.access };
}

export class HesCommands {
  constructor(private readonly deps: HesCommandDeps) {}

  /** Handles one command; every answer (or the one error) goes through `reply`. Never throws. */
  handle(name: string, payload: Uint8Array, reply: Reply): void {
    let via: ReplyVia = {};
    const answer = (doc: Record<string, unknown>): void => {
      try {
        reply({ command: name, ...(via.correlationId === undefined ? {} : { correlationId: via.correlationId }), ...doc }, via);
      } catch (e) {
        this.deps.logger.error({ command: name, err: e instanceof Error ? e.message : String(e) }, 'a command answer could not be sent');
      }
    };
    try {
      const doc = this.parse(name, payload);
      via = typeof doc.correlationId === 'string' ? { correlationId: doc.correlationId } : {};
      // A bad replyTo is refused, and the refusal goes to resp/<name>, not to that topic.
      const replyProblem = typeof doc.replyTo === 'string' ? replyTopicProblem(doc.replyTo, topicPrefixOf(this.deps.config)) : undefined;
      if (replyProblem !== undefined) throw new DcuError(ErrorCode.Usage, `command ${name}: ${replyProblem}`);
      if (typeof doc.replyTo === 'string') via = { ...via, replyTo: doc.replyTo };
      const { cmd, body } = this.validate(name, doc);
      this.run(cmd, body, answer);
    } catch (e) {
      const err = isDcuError(e) ? e : new DcuError(ErrorCode.Internal, e instanceof Error ? e.message : String(e));
      this.deps.logger.warn({ command: name, code: err.code, err: err.message }, 'HES command refused');
      answer({ type: 'error', error: { code: err.code, name: errorCodeName(err.code), message: err.message } });
    }
  }

  private parse(name: string, payload: Uint8Array): Record<string, unknown> {
    if (payload.length > MAX_COMMAND_BYTES) throw new DcuError(ErrorCode.PayloadTooLarge, `command ${name}: ${payload.length} bytes is over the ${MAX_COMMAND_BYTES}-byte limit`);
    let doc: unknown;
    try {
      doc = parseJsonLimited(new TextDecoder('utf-8', { fatal: true }).decode(payload), `command ${name}`);
    } catch (e) {
      if (isDcuError(e)) throw e;
      throw new DcuError(ErrorCode.InvalidJson, `command ${name}: the payload is not UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new DcuError(ErrorCode.InvalidJson, `command ${name}: the payload must be a JSON object`);
    return doc as Record<string, unknown>;
  }

  private validate(name: string, doc: Record<string, unknown>): { cmd: CommandName; body: Record<string, unknown> } {
    if (!(COMMAND_NAMES as string[]).includes(name)) throw new DcuError(ErrorCode.UnknownCommand, `unknown command "${name}"; known: ${COMMAND_NAMES.join(', ')}`);
    const cmd = name as CommandName;
    const check = validators[cmd];
    if (!check(doc)) {
      const problems = schemaProblems(check.errors ?? [], doc);
      throw new DcuError(ErrorCode.Usage, `command ${cmd}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    }
    if (typeof doc.expiresAt === 'string' && Date.parse(doc.expiresAt) < this.deps.clock.now()) {
      throw new DcuError(ErrorCode.CommandExpired, `command ${cmd} expired at ${doc.expiresAt}; not executed`);
    }
    const body = Object.fromEntries(Object.entries(doc).filter(([k]) => !(k in Envelope)));
    return { cmd, body };
  }

  private run(cmd: CommandName, body: Record<string, unknown>, answer: (doc: Record<string, unknown>) => void): void {
    const { scheduler, meters, clock } = this.deps;
    switch (cmd) {
      case 'read':
      case 'plan':
      case 'clock-sync': {
        const request = cmd === 'clock-sync' ? { ...body, what: ['clock-sync'], kind: 'read' } : { ...body, kind: cmd };
        const s = scheduler.submit(request, 'hes');
        answer({ type: 'accepted', job: s.job.id, meters: s.meters.length, created: s.created });
        if (cmd !== 'plan' && s.created) this.follow(s.job.id, answer);
        return;
      }
      case 'cancel': {
        const job = body.job as string;
        const r = scheduler.cancel(job);
        if (!r.found) throw new DcuError(ErrorCode.Usage, `no job ${job}`);
        answer({ type: 'ok', job, state: r.state });
        return;
      }
      case 'meter-add':
      case 'meter-update': {
        const given = cmd === 'meter-add' ? (body.meter as { serial?: unknown } | null)?.serial : body.serial;
        const serial = typeof given === 'string' ? given : '';
        const have = meters.get(serial);
        if (cmd === 'meter-add' && have !== undefined) throw new DcuError(ErrorCode.Conflict, `meter ${serial} is registered already; use meter-update`);
        if (cmd === 'meter-update' && have === undefined) throw new DcuError(ErrorCode.UnknownMeter, `meter ${serial} is not registered`);
        const doc = structuredClone(cmd === 'meter-add' ? body.meter : { ...asConfig(have as MeterRecord), ...(body.changes as object), serial });
        const givenKeys = ((cmd === 'meter-add' ? body.meter : body.changes) as { keys?: unknown } | null)?.keys;
        const problems = [
          ...remoteKeysProblems(givenKeys, cmd === 'meter-add' ? 'meter.keys' : 'changes.keys'),
          ...meterProblems(doc, this.deps.config.lines, meters.list().map((m) => ({ serial: m.serial, line: m.line, address: m.address, client: m.access.client })), this.deps.config.keysDir),
        ];
        if (problems.length > 0) throw new DcuError(ErrorCode.Usage, `command ${cmd}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
        const result = meters.upsert(doc as MeterConfig, 'hes', clock.now());
        this.deps.logger.info({ meter: serial, result }, `meter ${cmd === 'meter-add' ? 'added' : 'updated'} by the HES`);
        answer({ type: 'ok', serial, result });
        return;
      }
      case 'meter-remove': {
        const serial = body.serial as string;
        if (!meters.remove(serial)) throw new DcuError(ErrorCode.UnknownMeter, `meter ${serial} is not registered`);
        this.deps.logger.info({ meter: serial }, 'meter removed by the HES');
        answer({ type: 'ok', serial, result: 'removed' });
        return;
      }
      case 'meters': {
        const list = meters.list().filter((m) => (body.line === undefined || m.line === body.line) && (body.stage === undefined || m.state.stage === body.stage));
        answer({ type: 'ok', count: list.length, meters: list.map(meterSummary) });
        return;
      }
      case 'status':
        answer({ type: 'ok', status: this.deps.status() });
        return;
      case 'fw-image':
      case 'fw-campaign-create':
      case 'fw-campaign-status':
      case 'fw-campaign-cancel':
      case 'fw-campaign-retry':
      case 'fw-campaign-activate':
        if (this.deps.firmware === undefined) throw new DcuError(ErrorCode.Internal, `command ${cmd}: firmware is not available in this daemon`);
        answer(runFirmwareCommand(this.deps.firmware, cmd, body, 'hes'));
        return;
    }
  }

  /** Streams a job's results to the requester until it ends. */
  private follow(job: string, answer: (doc: Record<string, unknown>) => void): void {
    const off = this.deps.scheduler.on((e) => {
      if (e.job !== job) return;
      if (e.type === 'result') {
        if (e.final) answer({ type: 'result', job, result: e.result });
        return;
      }
      off();
      answer({ type: 'done', job, state: e.state, exe: e.counts.EXE, warn: e.counts.WARN, fail: e.counts.FAIL, cancelled: e.counts.cancelled });
    });
  }
}

export type CommandBody<N extends CommandName> = Static<(typeof COMMAND_SCHEMAS)[N]>;
