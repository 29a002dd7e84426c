/**
 * `/metrics` in the Prometheus text format, through prom-client: one registry per ParkOps process
 * (no global state, so tests can run several), the process and Node.js metrics prom-client collects,
 * and ParkOps' own counters, gauges and histograms.
 *
 * The small classes here keep the module's old API (a name, a help text, `inc`/`set`/`observe`, a
 * gauge read at scrape time from a callback) over prom-client's metrics; labels are declared up front
 * because prom-client checks every label set against them.
 */
import client from 'prom-client';

type Labels = Record<string, string>;

interface Metric {
  /** The prom-client metric to register. */
  readonly collector: client.Metric;
}

export class Counter implements Metric {
  readonly collector: client.Counter;
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[] = [],
  ) {
    this.collector = new client.Counter({ name, help, labelNames, registers: [] });
  }
  inc(labels?: Labels, by = 1): void {
    if (labels) this.collector.inc(labels, by);
    else this.collector.inc(by);
  }
  /** The count now: of one label set, or the total of every label set. */
  async get(labels?: Labels): Promise<number> {
    const { values } = await this.collector.get();
    const matches = (l: Record<string, unknown>): boolean => labels === undefined || Object.entries(labels).every(([k, v]) => l[k] === v);
    return values.filter((v) => matches(v.labels)).reduce((n, v) => n + v.value, 0);
  }
}

/** A gauge set by its owner, or read at each scrape from `collect` (a number, or one value per label set). */
export class Gauge implements Metric {
  readonly collector: client.Gauge;
  constructor(
    readonly name: string,
    readonly help: string,
    collect?: () => number | Array<[Labels, number]> | Promise<number | Array<[Labels, number]>>,
    labelNames: readonly string[] = [],
  ) {
    this.collector = new client.Gauge({
      name,
      help,
      labelNames,
      registers: [],
      ...(collect
        ? {
            async collect(this: client.Gauge) {
              const v = await collect();
              // Label sets that are gone (a peer removed) must not linger from an earlier scrape.
              this.reset();
              if (typeof v === 'number') this.set(v);
              else for (const [l, n] of v) this.set(l, n);
            },
          }
        : {}),
    });
  }
  set(value: number, labels?: Labels): void {
    if (labels) this.collector.set(labels, value);
    else this.collector.set(value);
  }
}

export class Histogram implements Metric {
  readonly collector: client.Histogram;
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: number[],
  ) {
    this.collector = new client.Histogram({ name, help, buckets, registers: [] });
  }
  /** `times` observations of the same value at once (a batch received in one read). */
  observe(v: number, times = 1): void {
    for (let i = 0; i < times; i++) this.collector.observe(v);
  }
}

export class Metrics {
  readonly registry = new client.Registry();
  readonly received = this.add(new Counter('parkops_messages_received_total', 'Device messages received from MQTT'));
  readonly accepted = this.add(new Counter('parkops_messages_accepted_total', 'Device messages accepted, by reading kind', ['kind']));
  readonly duplicates = this.add(new Counter('parkops_messages_duplicate_total', 'Accepted messages that were redeliveries of a stored reading'));
  readonly rejected = this.add(new Counter('parkops_messages_rejected_total', 'Device messages rejected, by reason', ['reason']));
  readonly storeErrors = this.add(new Counter('parkops_store_errors_total', 'Failed durable writes (message left unacknowledged for redelivery)'));
  readonly commitSeconds = this.add(
    new Histogram('parkops_commit_seconds', 'Time from message receipt to durable commit', [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25]),
  );
  readonly batchSize = this.add(new Histogram('parkops_ingest_batch_size', 'Readings committed together in one transaction', [1, 10, 50, 100, 250, 500, 1000, 2000]));
  readonly sseClients = this.add(new Gauge('parkops_sse_clients', 'Open /api/stream connections'));

  constructor() {
    // process_resident_memory_bytes ("Resident memory size in bytes.") and the rest of prom-client's
    // process and Node.js metrics; the two below are ParkOps' own from before prom-client.
    client.collectDefaultMetrics({ register: this.registry });
    this.add(new Gauge('nodejs_heap_used_bytes', 'V8 heap used.', () => process.memoryUsage().heapUsed));
    this.add(new Gauge('process_uptime_seconds', 'Process uptime.', () => Math.round(process.uptime())));
  }

  add<T extends Metric>(m: T): T {
    this.registry.registerMetric(m.collector);
    return m;
  }

  /** The text `/metrics` answers. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
