/**
 * Shared set-up of the secured client tests: the mini meter served over a memory link,
 * with a hook to tamper with (or replay) the meter's answers, and a client with HLS-GMAC.
 */
import { DlmsClient, type ClientOptionsInput } from '../../../protocol/client/client';
import type { ClientSecurity } from '../../../protocol/client/options';
import { systemClock } from '../../../protocol/common/clock';
import type { Logger } from '../../../protocol/common/log';
import { MemoryCounterStore, type InvocationCounterStore } from '../../../protocol/security';
import type { ApduHandler } from '../../../protocol/server/contract';
import type { DlmsServerLimits } from '../../../protocol/server/options';
import { memoryTransportPair } from '../../helpers/memory-transport';
import { createMiniMeterServer, MINI_HLS } from '../../helpers/mini-meter';
import { serveMeter } from '../../helpers/serve-meter';

/** Rewrites the meter's answer to a request (return it unchanged to pass it on). */
export type Tamper = (answer: Uint8Array, request: Uint8Array) => Uint8Array;

export interface SecureSetup {
  framing?: 'hdlc' | 'wrapper';
  security?: Partial<ClientSecurity>;
  client?: Partial<ClientOptionsInput>;
  limits?: DlmsServerLimits;
  logger?: Logger;
}

export function secureSecurity(store: InvocationCounterStore = new MemoryCounterStore(), over: Partial<ClientSecurity> = {}): ClientSecurity {
  return {
    policy: 'auth-enc',
    systemTitle: MINI_HLS.clientSystemTitle,
    blockKey: MINI_HLS.blockKey,
    authKey: MINI_HLS.authKey,
    counterStore: store,
    counterKeyId: 'mini/guek',
    ...over,
  };
}

export function secureSetup(s: SecureSetup = {}) {
  const framing = s.framing ?? 'hdlc';
  const [clientEnd, meterEnd] = memoryTransportPair();
  const { server, meter } = createMiniMeterServer(systemClock, s.limits);
  const hook: { tamper: Tamper | undefined } = { tamper: undefined };
  const handler: ApduHandler = {
    handle: (apdu, session) => {
      const answer = server.handle(apdu, session);
      return answer === undefined || hook.tamper === undefined ? answer : hook.tamper(answer, apdu);
    },
    release: (session) => server.release(session),
  };
  void meterEnd.open();
  serveMeter(meterEnd, handler, { framing });
  const store = s.security?.counterStore ?? new MemoryCounterStore();
  const client = new DlmsClient(clientEnd, {
    framing,
    clientAddress: MINI_HLS.clientAddress,
    authentication: { mechanism: 'high-gmac' },
    security: secureSecurity(store, s.security),
    responseTimeoutMs: 300,
    retries: 1,
    ...(s.logger === undefined ? {} : { logger: s.logger }),
    ...s.client,
  });
  return { client, server, meter, store, hook, clientEnd, meterEnd };
}
