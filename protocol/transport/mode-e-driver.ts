/**
 * Runs a mode E machine (client or responder) over a real serial transport: executes its
 * commands (line settings, writes, waits) and feeds it received bytes and timeouts on the
 * injected clock. A transport that closes mid-way ends the run with its own error.
 */
import { sleep, systemClock, type Clock, type TimerHandle } from '../common/clock';
import { DcuError, ErrorCode } from '../common/errors';
import { ModeEClient, type ModeEMachine, type ModeEOptions, type ModeEResult } from './mode-e';
import { ModeEResponder, type ModeEResponderOptions, type ModeEServed } from './mode-e-responder';
import type { SerialByteTransport } from './types';

type Input = { readonly kind: 'data'; readonly chunk: Uint8Array } | { readonly kind: 'timeout'; readonly generation: number };

export async function runModeE<R>(serial: SerialByteTransport, machine: ModeEMachine<R>, clock: Clock = systemClock): Promise<R> {
  // Received chunks and timeouts, in the order they happened.
  const inputs: Input[] = [];
  let wake: (() => void) | undefined;
  let closed: DcuError | undefined;
  const offData = serial.onData((chunk) => {
    inputs.push({ kind: 'data', chunk });
    wake?.();
  });
  const offClose = serial.onClose((error) => {
    closed =
      error ??
      new DcuError(ErrorCode.TransportClosed, `${serial.description} was closed during the mode E opening`);
    wake?.();
  });
  let timer: TimerHandle | undefined;
  /** Each 'await' gets a generation; a timeout of an earlier one is stale. */
  let generation = 0;
  let awaiting = false;
  try {
    if (!serial.isOpen) await serial.open();
    machine.start();
    for (;;) {
      if (closed) throw closed;
      const cmd = machine.takeCommand();
      if (cmd) {
        switch (cmd.type) {
          case 'configure':
            await serial.update(cmd.settings);
            break;
          case 'send':
            await serial.write(cmd.bytes);
            break;
          case 'wait':
            await sleep(clock, cmd.ms);
            break;
          case 'await': {
            timer?.cancel();
            timer = undefined;
            const gen = ++generation;
            awaiting = true;
            if (cmd.timeoutMs !== undefined) {
              timer = clock.setTimer(cmd.timeoutMs, () => {
                inputs.push({ kind: 'timeout', generation: gen });
                wake?.();
              });
            }
            break;
          }
          case 'done':
            return cmd.result;
          case 'fail':
            throw cmd.error;
        }
        continue;
      }
      if (!awaiting) throw new DcuError(ErrorCode.Internal, 'mode E machine stalled without awaiting input');
      const input = inputs.shift();
      if (input?.kind === 'data') {
        machine.receive(input.chunk);
      } else if (input?.kind === 'timeout') {
        if (input.generation === generation) {
          awaiting = false;
          machine.timeout();
        }
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    }
  } finally {
    timer?.cancel();
    offData();
    offClose();
  }
}

/** HHU side: opens mode E on `serial` (opening the port if needed); rejects with ModeEFailed. */
export function openModeE(serial: SerialByteTransport, options: ModeEOptions = {}, clock: Clock = systemClock): Promise<ModeEResult> {
  return runModeE(serial, new ModeEClient(options), clock);
}

/** Meter side (simulator): waits for one sign-on and switches; resolves with the agreed baud. */
export function serveModeE(
  serial: SerialByteTransport,
  options: ModeEResponderOptions = {},
  clock: Clock = systemClock,
): Promise<ModeEServed> {
  return runModeE(serial, new ModeEResponder(options), clock);
}
