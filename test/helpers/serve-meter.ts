import type { ServerAddress } from '../../protocol/hdlc/address';
import type { HdlcParameters } from '../../protocol/hdlc/params';
import type { Clock } from '../../protocol/common/clock';
import type { ApduHandler } from '../../protocol/server/contract';
import { HdlcMeterStation, WrapperMeterStation } from '../../protocol/server/station';
import type { ByteTransport } from '../../protocol/transport/types';

export interface ServedMeter {
  /** Stops answering (the meter goes silent); the transport stays open. */
  silence(on: boolean): void;
  stop(): void;
}

/** Serves an ApduHandler on a transport as one meter: HDLC secondary station or wrapper. */
export function serveMeter(
  transport: ByteTransport,
  handler: ApduHandler,
  options: { framing: 'hdlc' | 'wrapper'; address?: ServerAddress; limits?: Partial<HdlcParameters>; clock?: Clock },
): ServedMeter {
  let silent = false;
  const flush = (): void => {
    for (let out = station.takeOutput(); out; out = station.takeOutput()) {
      if (!silent) void transport.write(out).catch(() => undefined);
    }
  };
  const station: HdlcMeterStation | WrapperMeterStation =
    options.framing === 'hdlc'
      ? new HdlcMeterStation({
          handler,
          address: options.address ?? { logical: 1, size: 1 },
          ...(options.limits ? { limits: options.limits } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
          notify: () => flush(),
        })
      : new WrapperMeterStation({ handler, notify: () => flush() });
  const off = transport.onData((chunk) => {
    if (silent) return;
    station.receive(chunk);
    flush();
  });
  return {
    silence: (on) => {
      silent = on;
    },
    stop: () => off(),
  };
}
