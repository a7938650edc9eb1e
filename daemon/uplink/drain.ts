/**
 * The outbox drain: per stream in seq order, a bounded number of messages in flight, each
 * MQTT message a sealed batch of outbox messages. A row leaves the outbox only when the
 * broker acknowledged it (PUBACK < 0x80, not 0x10) and, with appAck, when the HES
 * acknowledged it on `ack`. Anything else — a refusal, a timeout, a connection lost — keeps
 * the rows, counts it, logs it once, and the stream is tried again from its oldest row after
 * a jittered, doubling pause (a lost connection waits for the reconnect instead).
 *
 * It knows MQTT only through `Publisher`, so tests drive it on a FakeClock.
 */
import type { Clock, TimerHandle } from '../../protocol/common/clock';
import type { Logger } from '../../protocol/common/log';
import type { OutboxDrain, OutboxRow } from '../../storage/outbox';
import { deflateRawSync } from 'node:zlib';
import { CONTENT_TYPE, encodeBatch, encodeItem, envelopeId, itemText, type Encoding } from './encode';
import { backoffMs, pubackVerdict, reasonName } from './policy';

export interface PublishProps {
  readonly contentType: string;
  readonly userProperties: Readonly<Record<string, string>>;
  readonly messageExpiryS?: number;
}

/** Resolves with the PUBACK reason code; rejects when the message did not make it (connection lost…). */
export interface Publisher {
  publish(topic: string, payload: Buffer, props: PublishProps): Promise<number | undefined>;
}

export interface DrainOptions {
  readonly dcuId: string;
  /** The store's incarnation, part of every envelope id. */
  readonly incarnation: string;
  /** Before a message of stream first..last is published (the high-water file covers `last`). */
  readonly beforeSend?: (stream: string, last: number) => void;
  /** Sent before anything else: other streams wait until the broker has this row (the store-corrupt alarm after a rebuild). */
  readonly first?: { readonly stream: string; readonly seq: number };
  /** Topic prefix ending in '/'. */
  readonly prefix: string;
  readonly window: number;
  readonly maxMessageBytes: number;
  readonly ackTimeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly appAck: boolean;
  readonly appAckTimeoutMs: number;
  readonly encoding: Encoding;
  /** Streams whose payloads go deflated (raw DEFLATE, RFC 1951), announced by the user property `contentEncoding: deflate`. */
  readonly deflate?: readonly string[];
  readonly messageExpiryS?: number;
  /** How often an idle drain looks for new outbox rows. */
  readonly pollMs: number;
  readonly random: () => number;
}

export interface DrainCounters {
  /** MQTT messages published (re-sends included). */
  published: number;
  /** MQTT messages whose rows left the outbox. */
  delivered: number;
  /** Outbox messages (items) that left the outbox. */
  deliveredItems: number;
  /** Refused/failed sends by cause: `0x87 not authorized`, `timeout`, `connection lost`, `app-ack timeout`. */
  kept: Record<string, number>;
  /** The last reason a send failed, with its stream. */
  lastError: string | null;
}

interface Batch {
  readonly stream: string;
  readonly first: number;
  readonly last: number;
  readonly items: number;
  settled: boolean;
  timer?: TimerHandle;
}

interface StreamState {
  /** Last seq handed to the publisher (0: start from the oldest row). */
  cursor: number;
  inflight: number;
  /** A send of this stream failed: no new sends; restart from the oldest once in-flight ones settle. */
  failed: boolean;
  /** The failure costs a backoff (false for a lost connection). */
  backoff: boolean;
  failures: number;
  retryAt: number;
  /** Failure causes already logged since the last delivery. */
  logged: Set<string>;
  /** appAck: delivered to the broker, waiting for the HES, by first seq. */
  awaiting: Map<number, Batch>;
}

const PEEK_ROWS = 2000;

export class Drain {
  readonly counters: DrainCounters = { published: 0, delivered: 0, deliveredItems: 0, kept: {}, lastError: null };
  private readonly streams = new Map<string, StreamState>();
  private publisher: Publisher | undefined;
  private window = 1;
  private inflight = 0;
  private wakeTimer: TimerHandle | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private pumping = false;
  private stopped = false;
  private first: { readonly stream: string; readonly seq: number } | undefined;
  /** Delivered rows the store could not delete yet (a full disk): deleted on a later pump. */
  private readonly undeleted: { stream: string; first: number; last: number }[] = [];

  constructor(
    private readonly outbox: OutboxDrain,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: DrainOptions,
  ) {
    this.first = opts.first;
  }

  /** Connected: send through `publisher`, at most `window` messages (≤ the broker's receive maximum) at once. */
  online(publisher: Publisher, receiveMaximum: number | undefined): void {
    this.publisher = publisher;
    this.window = Math.max(1, Math.min(this.opts.window, receiveMaximum ?? this.opts.window));
    for (const s of this.streams.values()) if (!s.backoff) s.retryAt = 0;
    this.pump();
  }

  /** Connection lost: in-flight messages will fail through their promises; nothing new is sent. */
  offline(): void {
    this.publisher = undefined;
    // what waited for the HES ack may have died with the broker: sent again on reconnect (same ids)
    for (const s of this.streams.values()) {
      const waiting = [...s.awaiting.values()];
      if (waiting.length === 0) continue;
      for (const b of waiting) b.timer?.cancel();
      s.awaiting.clear();
      this.fail(s, waiting[0] as Batch, 'connection lost (waiting for the HES ack)', false);
      this.restartWhenSettled(s);
    }
  }

  stop(): void {
    this.stopped = true;
    this.publisher = undefined;
    this.wakeTimer?.cancel();
    for (const s of this.streams.values()) for (const b of s.awaiting.values()) b.timer?.cancel();
  }

  /** New rows may be in the outbox. */
  kick(): void {
    this.pump();
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** The HES has every message of `stream` up to `seq` (appAck). */
  appAck(stream: string, seq: number): void {
    const s = this.streams.get(stream);
    const n = this.outbox.deliveredUpTo(stream, seq);
    if (s !== undefined) {
      for (const [first, b] of s.awaiting) {
        if (b.last <= seq) {
          b.timer?.cancel();
          s.awaiting.delete(first);
          this.counters.delivered++;
          this.counters.deliveredItems += b.items;
        }
      }
      this.succeeded(s);
    }
    if (n > 0) this.pump();
  }

  private state(stream: string): StreamState {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = { cursor: 0, inflight: 0, failed: false, backoff: false, failures: 0, retryAt: 0, logged: new Set(), awaiting: new Map() };
      this.streams.set(stream, s);
    }
    return s;
  }

  private busy(): number {
    let awaiting = 0;
    for (const s of this.streams.values()) awaiting += s.awaiting.size;
    return this.inflight + awaiting;
  }

  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      let idle = true;
      const now = this.clock.now();
      let nextRetry = Number.POSITIVE_INFINITY;
      this.deleteDelivered();
      const first = this.first;
      if (first !== undefined && this.outbox.peek(first.stream, first.seq - 1, 1)[0]?.seq !== first.seq) this.first = undefined;
      for (const stream of this.outbox.streams()) {
        if (this.first !== undefined && stream !== this.first.stream) continue;
        const s = this.state(stream);
        if (s.failed) continue;
        if (s.retryAt > now) {
          nextRetry = Math.min(nextRetry, s.retryAt);
          continue;
        }
        while (this.publisher !== undefined && this.busy() < this.window) {
          const rows = this.outbox.peek(stream, s.cursor, PEEK_ROWS);
          if (rows.length === 0) break;
          this.send(stream, s, rows);
          idle = false;
        }
      }
      if (this.publisher !== undefined) this.wake(idle && this.inflight === 0 ? Math.min(nextRetry, now + this.opts.pollMs) : nextRetry);
    } finally {
      this.pumping = false;
    }
  }

  /** Runs pump() at `at` (the earliest asked for wins). */
  private wake(at: number): void {
    if (!Number.isFinite(at) || at >= this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimer(at - this.clock.now(), () => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.wakeTimer = undefined;
      this.pump();
    });
  }

  private send(stream: string, s: StreamState, rows: readonly OutboxRow[]): void {
    const first = rows[0] as OutboxRow;
    const texts: string[] = [];
    let size = 200;
    let last = first.seq;
    for (const r of rows) {
      if (first.batchEnd !== null ? r.seq > first.batchEnd : texts.length > 0 && size + r.payload.length > this.opts.maxMessageBytes) break;
      const text = itemText(encodeItem(r, this.opts.encoding));
      if (first.batchEnd === null && texts.length > 0 && size + text.length + 1 > this.opts.maxMessageBytes) break;
      texts.push(text);
      size += text.length + 1;
      last = r.seq;
    }
    this.opts.beforeSend?.(stream, last);
    if (first.batchEnd === null) this.outbox.sealBatch(stream, first.seq, last);
    const json = encodeBatch(this.opts.dcuId, stream, this.opts.incarnation, { first: first.seq, last }, texts, this.opts.encoding, this.clock.now());
    const deflated = this.opts.deflate?.includes(stream) === true;
    const payload = deflated ? deflateRawSync(json) : json;
    const batch: Batch = { stream, first: first.seq, last, items: texts.length, settled: false };
    s.cursor = last;
    s.inflight++;
    this.inflight++;
    this.counters.published++;
    const publisher = this.publisher as Publisher;
    batch.timer = this.clock.setTimer(this.opts.ackTimeoutMs, () => this.settle(s, batch, { failure: 'timeout', backoff: true }));
    const props: PublishProps = {
      contentType: CONTENT_TYPE[this.opts.encoding],
      userProperties: { encoding: this.opts.encoding, id: envelopeId(this.opts.dcuId, stream, this.opts.incarnation, first.seq), ...(deflated ? { contentEncoding: 'deflate' } : {}) },
      ...(this.opts.messageExpiryS === undefined ? {} : { messageExpiryS: this.opts.messageExpiryS }),
    };
    publisher.publish(`${this.opts.prefix}data/${stream}`, payload, props).then(
      (code) => this.settle(s, batch, pubackVerdict(code) === 'delivered' ? { ok: true } : { failure: reasonName(code ?? 0), backoff: true }),
      (e: unknown) => this.settle(s, batch, { failure: `connection lost (${e instanceof Error ? e.message : String(e)})`, backoff: false }),
    );
  }

  private settle(s: StreamState, b: Batch, outcome: { ok: true } | { failure: string; backoff: boolean }): void {
    if (b.settled) return;
    b.settled = true;
    b.timer?.cancel();
    s.inflight--;
    this.inflight--;
    if (this.stopped) return;
    if ('ok' in outcome) {
      if (this.opts.appAck) {
        s.awaiting.set(b.first, b);
        b.timer = this.clock.setTimer(this.opts.appAckTimeoutMs, () => {
          if (s.awaiting.delete(b.first)) this.fail(s, b, 'app-ack timeout', true);
          this.restartWhenSettled(s);
          this.pump();
        });
      } else {
        this.undeleted.push({ stream: b.stream, first: b.first, last: b.last });
        this.deleteDelivered();
        this.counters.delivered++;
        this.counters.deliveredItems += b.items;
        this.succeeded(s);
      }
    } else {
      this.fail(s, b, outcome.failure, outcome.backoff);
    }
    this.restartWhenSettled(s);
    this.pump();
  }

  /** Deletes what the broker has; on a full disk the rows stay (sent again after a restart, same ids) and are deleted later. */
  private deleteDelivered(): void {
    while (this.undeleted.length > 0) {
      const d = this.undeleted[0] as { stream: string; first: number; last: number };
      try {
        this.outbox.delivered(d.stream, d.first, d.last);
      } catch (e) {
        if (!this.deleteFailing) this.logger.warn({ stream: d.stream, first: d.first, last: d.last, err: e instanceof Error ? e.message : String(e) }, 'delivered messages not deleted from the outbox yet (tried again)');
        this.deleteFailing = true;
        return;
      }
      this.deleteFailing = false;
      this.undeleted.shift();
      if (this.first !== undefined && d.stream === this.first.stream && d.first <= this.first.seq && this.first.seq <= d.last) this.first = undefined;
    }
  }

  private deleteFailing = false;

  private succeeded(s: StreamState): void {
    if (s.failed) return;
    s.failures = 0;
    s.logged.clear();
  }

  private fail(s: StreamState, b: Batch, why: string, backoff: boolean): void {
    const cause = why.startsWith('connection lost') ? 'connection lost' : why;
    this.counters.kept[cause] = (this.counters.kept[cause] ?? 0) + 1;
    this.counters.lastError = `${b.stream}: ${why}`;
    this.outbox.attempted(b.stream, b.first, b.last, why);
    if (!s.logged.has(cause)) {
      s.logged.add(cause);
      this.logger.warn({ stream: b.stream, first: b.first, last: b.last, why }, 'uplink message kept in the outbox, will be sent again');
    }
    s.failed = true;
    s.backoff ||= backoff;
    this.restartWhenSettled(s);
  }

  /** Once every message of a failed stream has settled, start it again from its oldest row. */
  private restartWhenSettled(s: StreamState): void {
    if (!s.failed || s.inflight > 0) return;
    s.failed = false;
    s.cursor = 0;
    for (const a of s.awaiting.values()) a.timer?.cancel();
    s.awaiting.clear();
    if (s.backoff) {
      s.failures++;
      s.retryAt = this.clock.now() + backoffMs(s.failures, this.opts.retryMinMs, this.opts.retryMaxMs, this.opts.random);
    } else {
      s.retryAt = 0;
    }
    s.backoff = false;
  }
}
