/**
 * `/metrics` in Prometheus text format (prom-client, its own registry): figures read at
 * scrape time from the lines, the store, the outbox and the uplink, plus counters and a
 * histogram of job results fed by the scheduler's events.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ApiDeps } from './context';

export interface ApiMetrics {
  readonly registry: Registry;
  stop(): void;
}

export function createMetrics(deps: ApiDeps): ApiMetrics {
  const registry = new Registry();
  const { lines, db, uplink, jobs } = deps;
  new Gauge({
    name: 'dcu_line_busy_ratio',
    help: 'associations open on the line now / line capacity',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      for (const l of lines.values()) this.set({ line: l.name }, l.arbiter.busy / l.arbiter.capacity);
    },
  });
  new Gauge({
    name: 'dcu_line_queued',
    help: 'requests waiting for the line',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      for (const l of lines.values()) this.set({ line: l.name }, l.arbiter.queued);
    },
  });
  new Counter({
    name: 'dcu_line_bytes_total',
    help: 'bytes through meter sessions on the line since start',
    labelNames: ['line', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of lines.values()) {
        this.inc({ line: l.name, direction: 'sent' }, l.traffic.sentBytes);
        this.inc({ line: l.name, direction: 'received' }, l.traffic.receivedBytes);
      }
    },
  });
  new Counter({
    name: 'dcu_line_frames_retried_total',
    help: 'frames sent again on the line after a timeout or a reported loss (HDLC SNRM/DISC repeats, RR polls, retransmitted I-frames; GBT acknowledgements) since start',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of lines.values()) this.inc({ line: l.name }, l.traffic.framesRetried);
    },
  });
  new Counter({
    name: 'dcu_line_session_seconds_total',
    help: 'time meter sessions were open on the line since start; rate() / capacity is the busy ratio over time',
    labelNames: ['line'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of lines.values()) this.inc({ line: l.name }, l.traffic.sessionMs / 1000);
    },
  });
  new Gauge({
    name: 'dcu_store_bytes',
    help: 'size of the SQLite store',
    registers: [registry],
    collect() {
      this.set((db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number));
    },
  });
  new Gauge({
    name: 'dcu_store_max_bytes',
    help: 'bound of the SQLite store (storage.maxBytes)',
    registers: [registry],
    collect() {
      this.set((db.pragma('max_page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number));
    },
  });
  new Gauge({
    name: 'dcu_outbox_backlog',
    help: 'messages in the outbox not yet acknowledged by the broker, per stream',
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of db.prepare<[], { stream: string; n: number }>('SELECT stream, count(*) AS n FROM outbox GROUP BY stream').all()) this.set({ stream: r.stream }, r.n);
    },
  });
  new Gauge({
    name: 'dcu_mqtt_connected',
    help: '1 when the uplink is connected to the broker (absent without mqtt)',
    registers: [registry],
    collect() {
      if (uplink === undefined) return;
      this.set(uplink.health().session.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'dcu_jobs_meters',
    help: 'meters of jobs by state (queued, running)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of db.prepare<[], { state: string; n: number }>("SELECT state, count(*) AS n FROM job_meters WHERE state IN ('queued', 'running') GROUP BY state").all()) this.set({ state: r.state }, r.n);
    },
  });
  const results = new Counter({ name: 'dcu_job_results_total', help: 'meter results by job class (jobs by their priority; scheduled collection cycles as scheduled) and status', labelNames: ['class', 'status'], registers: [registry] });
  const durations = new Histogram({ name: 'dcu_job_result_seconds', help: 'duration of a meter attempt by job class', labelNames: ['class'], buckets: [0.5, 1, 2, 5, 10, 30, 60, 300], registers: [registry] });
  const offJobs = deps.scheduler.on((e) => {
    if (e.type !== 'result') return;
    const cls = jobs.get(e.job)?.priority ?? 'unknown';
    results.inc({ class: cls, status: e.result.status });
    durations.observe({ class: cls }, Math.max(0, (e.result.finishedAt - e.result.requestedAt) / 1000));
  });
  const offCollection = deps.collector?.onMeter((e) => {
    results.inc({ class: 'scheduled', status: e.status });
    durations.observe({ class: 'scheduled' }, Math.max(0, e.ms / 1000));
  });
  return {
    registry,
    stop: () => {
      offJobs();
      offCollection?.();
    },
  };
}
