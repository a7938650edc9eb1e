/**
 * What firmware campaigns put on the `results` stream (HES `data/results`), as JSON Schemas:
 * the contract for docs/asyncapi.yaml (resultItem is one of the job results or these, told
 * apart by `type`) and for the tests that check every message the campaigns write.
 */
import { Type } from '@sinclair/typebox';
import { CAMPAIGN_METER_STATES, KO_REASONS } from '../../storage/firmware';

const Serial = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$' });
const EpochMs = Type.Integer({ minimum: 0 });
const Campaign = Type.String({ minLength: 1, maxLength: 64 });
const Reason = Type.Union(KO_REASONS.map((r) => Type.Literal(r)));

export const FIRMWARE_RESULT_SCHEMAS = {
  'fw-meter-progress': Type.Object(
    { type: Type.Literal('fw-meter-progress'), campaign: Campaign, meter: Serial, state: Type.Union(CAMPAIGN_METER_STATES.map((s) => Type.Literal(s))), progress: Type.Integer({ minimum: 0, maximum: 100 }), at: EpochMs },
    { additionalProperties: false, description: "a meter's update reached a new state (progress: blocks the meter has, %)" },
  ),
  'fw-meter-result': Type.Object(
    {
      type: Type.Literal('fw-meter-result'),
      campaign: Campaign,
      meter: Serial,
      status: Type.Union([Type.Literal('OK'), Type.Literal('KO')]),
      firmware: Type.Optional(Type.String({ description: 'OK: the active firmware identifier read back' })),
      transferred: Type.Optional(Type.Boolean({ description: 'OK: false when the meter already ran the version' })),
      warn: Type.Optional(Type.Array(Type.String(), { description: 'OK but not coherent: registers backwards, no firmware-activated event' })),
      reason: Type.Optional(Reason),
      detail: Type.Optional(Type.String()),
      attempts: Type.Integer({ minimum: 0 }),
      at: EpochMs,
    },
    { additionalProperties: false, description: "a meter's final result in a campaign" },
  ),
  'fw-campaign-done': Type.Object(
    { type: Type.Literal('fw-campaign-done'), campaign: Campaign, state: Type.Union([Type.Literal('done'), Type.Literal('cancelled')]), ok: Type.Integer({ minimum: 0 }), ko: Type.Integer({ minimum: 0 }), at: EpochMs },
    { additionalProperties: false, description: 'a campaign ended' },
  ),
  'field-work-order': Type.Object(
    {
      type: Type.Literal('field-work-order'),
      campaign: Campaign,
      image: Type.Optional(Type.String()),
      meters: Type.Array(Type.Object({ meter: Serial, reason: Reason, detail: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false }), { minItems: 1 }),
      at: EpochMs,
    },
    { additionalProperties: false, description: 'meters a technician must update on site (optical probe), with the reason' },
  ),
} as const;

const Bytes = Type.Object(
  {
    imageBytes: Type.Integer({ minimum: 0, description: 'image size (× meters for a line)' }),
    imageBytesSent: Type.Integer({ minimum: 0, description: 'image payload sent in image_block_transfer, re-sent blocks included' }),
    ratio: Type.Number({ minimum: 0, description: 'imageBytesSent ÷ imageBytes; the goal is ≤ 1.1' }),
    lineBytesSent: Type.Integer({ minimum: 0, description: "bytes of the firmware sessions, concentrator → meter (associations, blocks, status reads, polls, HDLC framing, release)" }),
    lineBytesReceived: Type.Integer({ minimum: 0, description: 'bytes of the firmware sessions, meter → concentrator (answers, RR)' }),
    overheadBytes: Type.Integer({ minimum: 0, description: 'lineBytesSent + lineBytesReceived − imageBytesSent: protocol overhead as counted' }),
  },
  { additionalProperties: false, description: 'what the firmware sessions put on the line, counted by the concentrator (persisted with the progress)' },
);

/** A campaign's state (fw-campaign-status|cancel|retry|activate answers, `dcu firmware campaign status --json`). */
export const CAMPAIGN_STATUS_SCHEMA = Type.Object(
  {
    campaign: Campaign,
    image: Type.String(),
    state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('cancelled')]),
    deadline: Type.String({ description: 'ISO instant' }),
    counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'meters per state' }),
    meters: Type.Array(
      Type.Object(
        {
          meter: Serial,
          state: Type.Union(CAMPAIGN_METER_STATES.map((s) => Type.Literal(s))),
          progress: Type.Integer({ minimum: 0, maximum: 100, description: 'blocks the meter has, %' }),
          attempts: Type.Integer({ minimum: 0 }),
          reason: Type.Union([Reason, Type.Null()]),
          detail: Type.Union([Type.String(), Type.Null()], { description: 'last error, or WARN: … for an OK meter not coherent after the update' }),
          line: Type.String({ description: 'the line the meter is on ("" when it is not registered any more)' }),
          bytes: Bytes,
        },
        { additionalProperties: false },
      ),
    ),
    fieldWorkOrder: Type.Array(Type.Object({ meter: Serial, reason: Reason, detail: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false })),
    lines: Type.Array(Type.Object({ line: Type.String(), meters: Type.Integer({ minimum: 0 }), bytes: Bytes }, { additionalProperties: false }), { description: 'per line: the bytes of its meters together' }),
  },
  { additionalProperties: false, description: "a firmware campaign's state: counts, each meter's state, progress and bytes, the field-work-order list, bytes per line" },
);
