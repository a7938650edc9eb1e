/**
 * A firmware campaign request (HES `fw-campaign-create`, `dcu firmware campaign create`, the
 * local API): one JSON Schema, checked before anything is stored.
 */
import { Type, type Static } from '@sinclair/typebox';
import Ajv from 'ajv';
import { parseDuration } from '../../config/units';
import { schemaProblems } from '../../config/validate';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import { parseWindow } from '../jobs/windows';

const ISO = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$';
const DURATION = '^\\d+(ms|s|m|h|d)$';
const Serial = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$' });

export const CampaignRequestSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'campaign id (a re-sent request with the same id creates nothing new)' })),
    image: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'the image id (complete and verified)' }),
    meters: Type.Optional(Type.Array(Serial, { minItems: 1, maxItems: 10_000, description: 'these meters' })),
    lines: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, description: 'every meter of these lines' })),
    all: Type.Optional(Type.Literal(true, { description: 'every registered meter' })),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 9, default: 5, description: 'order between campaigns (higher first); all run at the firmware line priority' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'attempts after a failed one (unreachable, verification or activation failed)' })),
    retryInterval: Type.Optional(Type.String({ pattern: DURATION, default: '30m', description: 'first pause before a retry (doubles each time, at most 12 h)' })),
    deadline: Type.Optional(Type.String({ description: 'duration from now ("3d") or ISO instant; meters not done by then are KO deadline-passed (field work order)' })),
    window: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' }), { maxItems: 8, description: 'daily windows the transfer may use, e.g. 22:00-06:00' })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'meters updated at once per line (default: the line capacity, 1 on a serial line)' })),
    activate: Type.Optional(Type.Union([Type.Literal('now'), Type.Literal('manual'), Type.String({ pattern: ISO })], { description: '"now" after verification, an ISO instant, or "manual" (fw-campaign-activate)' })),
    pollInterval: Type.Optional(Type.String({ pattern: DURATION, description: 'look again at a meter verifying or activating after (default 1m)' })),
  },
  { additionalProperties: false },
);
export type CampaignRequest = Static<typeof CampaignRequestSchema>;

const check = new Ajv({ allErrors: true, strict: false }).compile(CampaignRequestSchema);

export function parseCampaignRequest(raw: unknown): CampaignRequest {
  if (!check(raw)) {
    const problems = schemaProblems(check.errors ?? [], raw);
    throw new DcuError(ErrorCode.Usage, `invalid campaign request: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  const doc = raw as CampaignRequest;
  const chosen = [doc.meters, doc.lines, doc.all].filter((x) => x !== undefined).length;
  if (chosen !== 1) throw new DcuError(ErrorCode.Usage, 'invalid campaign request: give exactly one of meters, lines or all');
  for (const w of doc.window ?? []) parseWindow(w);
  return doc;
}

/** The deadline as an instant: a duration from `now` or an ISO instant. */
export function deadlineOf(text: string, now: number): number {
  const relative = parseDuration(text);
  if (relative !== undefined) return now + relative;
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) throw new DcuError(ErrorCode.Usage, `invalid campaign request: deadline "${text}" is neither an ISO instant nor a duration such as "3d"`);
  return at;
}

export const CAMPAIGN_DEFAULTS = { retries: 5, retryInterval: '30m', deadline: '7d', activate: 'now', pollInterval: '1m' } as const;
