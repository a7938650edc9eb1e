/**
 * What a job request may say, as a JSON Schema (TypeBox: the schema and the TypeScript type
 * from one source). The local socket, the HES commands over MQTT and the local API validate
 * against the same schema, so a request means the same whoever sends it. A request that
 * fails validation is refused as a whole: nothing is queued.
 *
 *   { "meters": ["SIM000001"], "what": ["registers", "3:1.0.1.8.0.255:2"] }          read now
 *   { "kind": "plan", "lines": ["plc0"], "what": ["daily"], "window": ["22:00-06:00"],
 *     "deadline": "2026-12-03T06:00:00Z", "retries": 3, "retryInterval": "30m" }        mass plan
 */
import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { DURATION_PATTERN } from '../../config/units';
import { schemaProblems } from '../../config/validate';
import { parseAttributeRef } from '../../protocol/cosem/classes';
import { DcuError, ErrorCode, isDcuError } from '../../protocol/common/errors';
import { PRIORITY } from '../lines/arbiter';

/**
 * Named commands of a job: data classes to read, and `clock-sync` (set the meter clock now,
 * whatever the drift policy); any `CLASS:OBIS:ATTR` attribute is accepted too.
 */
export const READ_WHAT = ['registers', 'clock', 'load-profile', 'daily', 'billing', 'clock-sync'] as const;
export type ReadWhat = (typeof READ_WHAT)[number];

const ISO_INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';
/** "22:00-06:00": a daily window; it may cross midnight. */
export const DAILY_WINDOW_PATTERN = '^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-4]):[0-5]\\d$';

export const MAX_JOB_METERS = 10_000;

export const JobRequestSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'job id chosen by the requester; a re-sent request with the same id is the same job' })),
    kind: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('plan')], { description: 'read (now, on-demand priority) or plan (mass plan, scheduled priority)' })),
    meters: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: MAX_JOB_METERS, uniqueItems: true, description: 'serial numbers' })),
    lines: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true, description: 'every meter registered on these lines' })),
    all: Type.Optional(Type.Boolean({ description: 'every registered meter' })),
    what: Type.Array(Type.String({ minLength: 1, maxLength: 80 }), { minItems: 1, maxItems: 32, description: `commands: ${READ_WHAT.join(', ')} or CLASS:OBIS:ATTR` }),
    priority: Type.Optional(Type.Union(Object.keys(PRIORITY).map((p) => Type.Literal(p)), { description: 'line priority class' })),
    notBefore: Type.Optional(Type.String({ pattern: ISO_INSTANT, description: 'no attempt before this instant (ISO 8601 with offset)' })),
    deadline: Type.Optional(Type.String({ description: 'no attempt after this: an ISO instant, or a duration from now such as "4h"' })),
    window: Type.Optional(Type.Array(Type.String({ pattern: DAILY_WINDOW_PATTERN }), { minItems: 1, maxItems: 8, description: 'daily time windows "HH:MM-HH:MM" (concentrator time zone)' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 50, description: 'attempts after the first, per meter' })),
    retryInterval: Type.Optional(Type.String({ pattern: DURATION_PATTERN, description: 'pause before the first retry; doubles each time' })),
  },
  { additionalProperties: false },
);
export type JobRequest = Static<typeof JobRequestSchema>;

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile<JobRequest>(JobRequestSchema);

/** A named class or an attribute reference. */
export function isReadWhat(w: string): w is ReadWhat {
  return (READ_WHAT as readonly string[]).includes(w);
}

/** Validates a request document; every problem in one typed error (code 800), nothing queued. */
export function parseJobRequest(doc: unknown): JobRequest {
  if (!validate(doc)) {
    const problems = schemaProblems(validate.errors ?? [], doc);
    throw new DcuError(ErrorCode.Usage, `invalid job request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  const selectors = [doc.meters, doc.lines, doc.all === true ? true : undefined].filter((x) => x !== undefined);
  if (selectors.length !== 1) throw new DcuError(ErrorCode.Usage, 'invalid job request: give exactly one of "meters", "lines" or "all": true');
  for (const w of doc.what) {
    if (isReadWhat(w)) continue;
    try {
      parseAttributeRef(w);
    } catch (e) {
      throw new DcuError(ErrorCode.Usage, `invalid job request: what: "${w}" is neither one of ${READ_WHAT.join(', ')} nor an attribute: ${isDcuError(e) ? e.message : String(e)}`, { cause: e });
    }
  }
  return doc;
}
