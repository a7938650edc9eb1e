/**
 * The simulated meter: a DLMS server (protocol/server) over a COSEM model described as data
 * (objects.ts), with measurements that are pure functions of (serial, time) (values.ts).
 *
 * Creating a meter is cheap: the object model and the server are built on the first APDU,
 * profiles are computed on demand and an image buffer exists only during a transfer, so a
 * fleet of 1,024 meters costs a few kilobytes each until clients use them.
 */
import type { ApduHandler, ServerSession } from '../../protocol/server/contract';
import { conformance } from '../../protocol/apdu/conformance';
import { DEFAULT_SERVER_CONFORMANCE } from '../../protocol/server/options';
import { DlmsServer } from '../../protocol/server/server';
import { simSystemTitle, type SimMeterDeps, type SimMeterLike, type SimMeterSpec } from '../types';
import { clientConfigs } from './access';
import { MeterCore } from './core';
import { buildMeterModel } from './model';
import { type SimMeterOptionsInput, resolveSimMeterOptions } from './options';
import type { SimMeterSnapshot } from './snapshot';

export interface SimMeter extends SimMeterLike {
  /** The meter's state (clock, logs, firmware, breaker …), for tests and the fleet's checks. */
  readonly core: MeterCore;
  snapshot(): SimMeterSnapshot;
}

export function createSimMeter(spec: SimMeterSpec, deps: SimMeterDeps, options: SimMeterOptionsInput = {}): SimMeter {
  const resolved = resolveSimMeterOptions(options);
  const core = new MeterCore(spec, deps, resolved);
  let server: DlmsServer | undefined;
  const faults = {
    get rejectAssociations(): boolean {
      return spec.rejectAssociations;
    },
  };
  const current = (): DlmsServer => {
    server ??= new DlmsServer({
      model: buildMeterModel(core),
      clients: clientConfigs(spec.credentials, simSystemTitle(spec.index)),
      clock: deps.clock,
      limits: {
        maxReceivePduSize: resolved.maxPduSize,
        maxSendPduSize: resolved.maxSendPduSize ?? resolved.maxPduSize,
        conformance: resolved.generalBlockTransfer ? conformance(...DEFAULT_SERVER_CONFORMANCE, 'general-block-transfer') : DEFAULT_SERVER_CONFORMANCE,
        gbtWindow: resolved.gbtWindow,
      },
      faults,
    });
    return server;
  };
  const handler: ApduHandler = {
    handle: (apdu: Uint8Array, session: ServerSession) => current().handle(apdu, session),
    handleBurst: (apdu: Uint8Array, session: ServerSession) => current().handleBurst(apdu, session),
    release: (session: ServerSession) => {
      server?.release(session);
    },
  };
  return {
    serial: spec.serial,
    physicalAddress: spec.physicalAddress,
    logicalDevice: spec.logicalDevice,
    handler,
    core,
    powerCut() {
      // A restarted meter has no associations: the next APDU builds a fresh server.
      server = undefined;
      core.powerCut();
    },
    onPush: (listener) => core.onPush(listener),
    snapshot: () => core.snapshot(),
    restore: (state: unknown) => {
      core.restore(state);
    },
  };
}

export { energyAt, instantAt, loadParams, ENERGY_EPOCH, type EnergyReadings, type InstantReadings } from './values';
export { DEFAULT_SIM_METER_OPTIONS, resolveSimMeterOptions, loadProfileDepth, type SimMeterOptions, type SimMeterOptionsInput, type ImageTransferOptions } from './options';
export { METER_OBJECTS, type MeterObjectKey } from './objects';
export type { MeterPushEvent } from './core';
export { EventCode, AlarmBit, ProfileStatusBit } from './events';
export { clientConfigs, roleOf, type ClientRole } from './access';
export { parseSnapshot, SNAPSHOT_FORMAT, type SimMeterSnapshot } from './snapshot';
