/**
 * COSEM objects the server provides for each security setup instance x (unless the meter
 * model has its own):
 *   Security setup (64, v0) 0.0.43.0.x.255: policy, suite, client/server system title;
 *     method 2 global_key_transfer (AES key wrap with the master key, next association).
 *   Invocation counter (Data, 1) 0.0.43.1.x.255: the highest client counter accepted, read
 *     by the public client to resynchronise (the client continues at value + 1).
 */
import { ActionResult, DataAccessResult } from '../apdu/results';
import type { Data } from '../axdr/data';
import type { Obis } from '../cosem/obis';
import type { ActionOutcome, GetOutcome, ServerObject } from './object';
import { policyNumber, type SecuritySetupState } from './security-state';

const denied = (): DataAccessResult => DataAccessResult.readWriteDenied;

export class InvocationCounterObject implements ServerObject {
  readonly classId = 1;
  readonly version = 0;
  readonly obis: Obis;

  constructor(private readonly setup: SecuritySetupState) {
    this.obis = [0, 0, 43, 1, setup.instance, 255];
  }

  get(attribute: number): GetOutcome {
    if (attribute !== 2) return { ok: false, result: DataAccessResult.objectUnavailable };
    return { ok: true, data: { type: 'uint32', value: this.setup.lastClientCounter } };
  }

  set = denied;

  action(): ActionOutcome {
    return { result: ActionResult.objectUnavailable };
  }
}

export class SecuritySetupObject implements ServerObject {
  readonly classId = 64;
  readonly version = 0;
  readonly obis: Obis;

  constructor(private readonly setup: SecuritySetupState) {
    this.obis = [0, 0, 43, 0, setup.instance, 255];
  }

  get(attribute: number): GetOutcome {
    const ok = (data: Data): GetOutcome => ({ ok: true, data });
    switch (attribute) {
      case 2:
        return ok({ type: 'enum', value: policyNumber(this.setup.policy) });
      case 3:
        return ok({ type: 'enum', value: 0 });
      case 4:
        return ok({ type: 'octet-string', value: this.setup.lastClientSystemTitle ?? new Uint8Array(0) });
      case 5:
        return ok({ type: 'octet-string', value: this.setup.systemTitle });
      default:
        return { ok: false, result: DataAccessResult.objectUnavailable };
    }
  }

  /** The policy is fixed by the meter's configuration here (security_activate is not offered). */
  set = denied;

  action(method: number, parameters: Data | undefined): ActionOutcome {
    if (method === 2) return { result: this.setup.transferKeys(parameters) };
    return { result: ActionResult.readWriteDenied };
  }
}
