/**
 * Numbered schema migrations. Append only: a released migration is never edited; a change
 * is a new migration. Each runs in one transaction and sets PRAGMA user_version.
 */
import type { Db } from '../db';
import { m001Counters } from './001-counters';
import { m002MeterMeta } from './002-meter-meta';
import { m003Meters } from './003-meters';
import { m004Readings } from './004-readings';
import { m005Events } from './005-events';
import { m006MeterEvents } from './006-meter-events';
import { m007RegisterValues } from './007-register-values';
import { m008Jobs } from './008-jobs';
import { m009Retention } from './009-retention';
import { m010OutboxStreams } from './010-outbox-streams';
import { m011UsersAudit } from './011-users-audit';
import { m012Firmware } from './012-firmware';
import { m013FirmwareBytes } from './013-firmware-bytes';
import { m014StoreIdentity } from './014-store-identity';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Db) => void;
}

export const MIGRATIONS: readonly Migration[] = [m001Counters, m002MeterMeta, m003Meters, m004Readings, m005Events, m006MeterEvents, m007RegisterValues, m008Jobs, m009Retention, m010OutboxStreams, m011UsersAudit, m012Firmware, m013FirmwareBytes, m014StoreIdentity];
