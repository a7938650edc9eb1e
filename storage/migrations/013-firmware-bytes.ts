import type { Migration } from './index';

/**
 * What each campaign meter's firmware sessions put on the line, counted by the daemon and
 * persisted with the progress they go with (so the counts survive a restart or a kill -9):
 * the image payload sent in image_block_transfer (re-sent blocks included), and every byte of
 * that meter's firmware sessions in both directions (associations, blocks, status reads,
 * polls, HDLC framing and acknowledgements, release). Overhead = line bytes − image payload.
 */
export const m013FirmwareBytes: Migration = {
  version: 13,
  name: 'firmware campaign byte counts',
  up: (db) => {
    db.exec(`
      ALTER TABLE fw_campaign_meters ADD COLUMN image_bytes_sent INTEGER NOT NULL DEFAULT 0;  -- image payload in image_block_transfer
      ALTER TABLE fw_campaign_meters ADD COLUMN line_bytes_sent INTEGER NOT NULL DEFAULT 0;   -- dcu → meter, the meter's firmware sessions
      ALTER TABLE fw_campaign_meters ADD COLUMN line_bytes_received INTEGER NOT NULL DEFAULT 0; -- meter → dcu, frames of those sessions
    `);
  },
};
