/**
 * One meter's state and behaviour, independent of DLMS: its clock, time zone, firmware,
 * breaker, alarm word, event logs and image transfer. The COSEM objects (model.ts) are thin
 * views over it; snapshot() / restore() save and load it.
 */
import type { Data } from '../../protocol/axdr/data';
import { DcuError, ErrorCode } from '../../protocol/common/errors';
import type { SimMeterDeps, SimMeterSpec } from '../types';
import { ControlState, type DisconnectState, outputState, remoteDisconnect, remoteReconnect } from './disconnect';
import { AlarmBit, EventCode, EventLog, ProfileStatusBit } from './events';
import { type ImageInput, type ImageStep, type ImageTransferState, imageTransferStep, initialImageState } from './image-transfer';
import { type DateTimeStyle, MeterClock, dateTimeData } from './meter-clock';
import type { SimMeterOptions } from './options';
import { type SimMeterSnapshot, SNAPSHOT_FORMAT, imageFromSnapshot, imageToSnapshot, parseSnapshot } from './snapshot';
import { type EnergyReadings, type InstantReadings, type LoadParams, energyWith, instantWith, loadParams } from './values';

export type ImageStepListener = (input: ImageInput, before: ImageTransferState, step: ImageStep) => void;

/** What the meter would push: alarm bits that became set, or mains lost ("last gasp"). */
export type MeterPushEvent = { readonly kind: 'alarm'; readonly raised: number; readonly register: number } | { readonly kind: 'power-down'; readonly register: number };

export class MeterCore {
  readonly params: LoadParams;
  readonly clock: MeterClock;
  deviation: number;
  firmwareId: string;
  disconnect: DisconnectState;
  private alarmWord = 0;
  private readonly pushListeners = new Set<(e: MeterPushEvent) => void>();
  private readonly imageListeners = new Set<ImageStepListener>();
  readonly standardLog: EventLog;
  readonly powerFailureLog: EventLog;
  private image: ImageTransferState;
  /** Subtracted from the registers (fault: the new firmware restarted them). */
  private energyOffset: EnergyReadings | undefined;

  constructor(
    readonly spec: SimMeterSpec,
    deps: SimMeterDeps,
    readonly options: SimMeterOptions,
  ) {
    this.params = loadParams(spec);
    const now = deps.clock.now();
    this.clock = new MeterClock(deps.clock, options.clockDriftPpm, { trueAt: now, meterAt: now + options.initialClockOffsetMs });
    this.deviation = options.deviation;
    this.firmwareId = options.firmwareId;
    this.disconnect = { controlState: ControlState.connected, controlMode: options.disconnectControlMode };
    this.standardLog = new EventLog(options.eventLogDepth);
    this.powerFailureLog = new EventLog(options.eventLogDepth);
    this.image = initialImageState(options.imageTransfer.blockSize);
  }

  /** Alarm register 0.0.97.98.0.255; bits that become set are pushed (see onPush). */
  get alarm(): number {
    return this.alarmWord;
  }

  set alarm(value: number) {
    const raised = (value & ~this.alarmWord) >>> 0;
    this.alarmWord = value >>> 0;
    if (raised !== 0) this.emitPush({ kind: 'alarm', raised, register: this.alarmWord });
  }

  /** Subscribes to what the meter would push (alarm bits raised, power down). Returns unsubscribe. */
  onPush(listener: (e: MeterPushEvent) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  private emitPush(e: MeterPushEvent): void {
    for (const l of [...this.pushListeners]) l(e);
  }

  style(): DateTimeStyle {
    return { deviation: this.deviation, convention: this.options.deviationConvention };
  }

  dateTime(ms: number): Data {
    return dateTimeData(ms, this.style());
  }

  /** Registers follow true time: setting the meter's clock does not move its counters. */
  energyNow(): EnergyReadings {
    const e = energyWith(this.params, this.clock.trueNow());
    const o = this.energyOffset;
    if (o === undefined) return e;
    return { activeImport: e.activeImport - o.activeImport, activeExport: e.activeExport - o.activeExport, reactiveImport: e.reactiveImport - o.reactiveImport, reactiveExport: e.reactiveExport - o.reactiveExport };
  }

  instantNow(): InstantReadings {
    return instantWith(this.params, this.clock.trueNow(), outputState(this.disconnect));
  }

  /** Profile rows: the counters at the row's capture instant (meter time). */
  energyAt(meterMs: number): EnergyReadings {
    return energyWith(this.params, meterMs);
  }

  /** Load profile status of the interval ending at t (events in (t − period, t]). */
  intervalStatus(t: number, periodMs: number): number {
    let status = 0;
    for (const e of this.standardLog.between(t - periodMs, t)) {
      if (e.code === EventCode.powerDown) status |= ProfileStatusBit.powerDown;
      if (e.code === EventCode.clockAdjustedNewTime) status |= ProfileStatusBit.clockAdjusted;
    }
    return status;
  }

  // ---------------------------------------------------------------- clock

  setClock(meterMs: number): void {
    this.standardLog.add(this.clock.now(), EventCode.clockAdjustedOldTime);
    this.clock.set(meterMs);
    this.standardLog.add(this.clock.now(), EventCode.clockAdjustedNewTime);
  }

  shiftClock(seconds: number): void {
    this.setClock(this.clock.now() + seconds * 1000);
  }

  // ---------------------------------------------------------------- power

  /** Mains lost and back: the logs record it, the alarm word flags the power up. */
  powerCut(): void {
    this.emitPush({ kind: 'power-down', register: this.alarmWord });
    const t = this.clock.now();
    this.standardLog.add(t, EventCode.powerDown);
    this.powerFailureLog.add(t, EventCode.powerDown);
    this.standardLog.add(t, EventCode.powerUp);
    this.alarm |= AlarmBit.powerUp;
  }

  // ---------------------------------------------------------------- breaker

  remote(kind: 'disconnect' | 'reconnect'): boolean {
    const out = kind === 'disconnect' ? remoteDisconnect(this.disconnect) : remoteReconnect(this.disconnect);
    if (!out.ok) return false;
    const before = this.disconnect.controlState;
    this.disconnect = out.state;
    const after = out.state.controlState;
    if (before !== after) {
      const code = after === ControlState.disconnected ? EventCode.disconnected : after === ControlState.connected ? EventCode.reconnected : EventCode.readyForReconnection;
      this.standardLog.add(this.clock.now(), code);
      if (after === ControlState.disconnected) this.alarm |= AlarmBit.disconnected;
      else this.alarm &= ~AlarmBit.disconnected;
    }
    return true;
  }

  // ---------------------------------------------------------------- firmware

  /** The image transfer state, pending verification / activation completed if due. */
  imageState(): ImageTransferState {
    return this.imageStep({ type: 'tick', now: this.clock.now() }).state;
  }

  imageStep(input: ImageInput): ImageStep {
    const before = this.image;
    const out = imageTransferStep(this.image, input, this.options.imageTransfer);
    this.image = out.state;
    for (const l of this.imageListeners) l(input, before, out);
    const t = this.clock.now();
    for (const e of out.effects) {
      switch (e.type) {
        case 'verified':
          this.standardLog.add(t, EventCode.firmwareReadyForActivation);
          break;
        case 'verification-failed':
          this.standardLog.add(t, EventCode.firmwareVerificationFailed);
          this.alarm |= AlarmBit.firmwareVerificationFailed;
          break;
        case 'activated':
          this.firmwareId = new TextDecoder().decode(e.identifier);
          if (this.options.imageTransfer.activationResetsRegisters === true) this.energyOffset = energyWith(this.params, this.clock.trueNow());
          if (this.options.imageTransfer.activationWithoutEvent !== true) this.standardLog.add(t, EventCode.firmwareActivated);
          break;
        case 'activation-failed':
          this.standardLog.add(t, EventCode.firmwareActivationFailed);
          this.alarm |= AlarmBit.firmwareActivationFailed;
          break;
      }
    }
    return out;
  }

  /**
   * Every image transfer input with the state it met and the step it gave (tests check that
   * no block lands under another image's identifier). Returns unsubscribe.
   */
  onImageStep(listener: ImageStepListener): () => void {
    this.imageListeners.add(listener);
    return () => this.imageListeners.delete(listener);
  }

  // ---------------------------------------------------------------- state

  snapshot(): SimMeterSnapshot {
    return {
      format: SNAPSHOT_FORMAT,
      serial: this.spec.serial,
      clock: this.clock.snapshot(),
      deviation: this.deviation,
      firmwareId: this.firmwareId,
      disconnect: { ...this.disconnect },
      alarm: this.alarm,
      events: { standard: [...this.standardLog.entries()], powerFailure: [...this.powerFailureLog.entries()] },
      image: imageToSnapshot(this.image),
    };
  }

  restore(state: unknown): void {
    const s = parseSnapshot(state);
    if (s.serial !== this.spec.serial) {
      throw new DcuError(ErrorCode.InvalidValue, `meter snapshot serial: expected ${this.spec.serial}, got ${s.serial}`, { context: { path: 'serial' } });
    }
    if (s.image.size > this.options.imageTransfer.maxImageSize) {
      throw new DcuError(ErrorCode.InvalidValue, `meter snapshot image.size: expected at most ${this.options.imageTransfer.maxImageSize}, got ${s.image.size}`, {
        context: { path: 'image.size' },
      });
    }
    this.clock.restore(s.clock);
    this.deviation = s.deviation;
    this.firmwareId = s.firmwareId;
    this.disconnect = s.disconnect;
    this.alarmWord = s.alarm;
    this.standardLog.clear();
    for (const e of s.events.standard) this.standardLog.add(e.at, e.code);
    this.powerFailureLog.clear();
    for (const e of s.events.powerFailure) this.powerFailureLog.add(e.at, e.code);
    this.image = imageFromSnapshot(s.image);
  }
}
