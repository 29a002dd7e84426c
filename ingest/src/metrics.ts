/** A small Prometheus text-format registry: counters, gauges and histograms, no dependency. */

type Labels = Record<string, string>;
const labelKey = (l: Labels | undefined): string =>
  l && Object.keys(l).length > 0
    ? `{${Object.entries(l)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
        .join(',')}}`
    : '';

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number | Array<[Labels, number]>,
  ) {}
  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.collect) {
      const v = this.collect();
      if (typeof v === 'number') lines.push(`${this.name} ${v}`);
      else for (const [l, n] of v) lines.push(`${this.name}${labelKey(l)} ${n}`);
    }
    for (const [k, v] of this.values) lines.push(`${this.name}${k} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  /** `times` observations of the same value at once (a batch received in one read). */
  observe(v: number, times = 1): void {
    this.sum += v * times;
    this.count += times;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]! += times;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class Metrics {
  private readonly all: Metric[] = [];
  readonly received = this.add(new Counter('parkops_messages_received_total', 'Device messages received from MQTT'));
  readonly accepted = this.add(new Counter('parkops_messages_accepted_total', 'Device messages accepted, by reading kind'));
  readonly duplicates = this.add(new Counter('parkops_messages_duplicate_total', 'Accepted messages that were redeliveries of a stored reading'));
  readonly rejected = this.add(new Counter('parkops_messages_rejected_total', 'Device messages rejected, by reason'));
  readonly storeErrors = this.add(new Counter('parkops_store_errors_total', 'Failed durable writes (message left unacknowledged for redelivery)'));
  readonly commitSeconds = this.add(
    new Histogram('parkops_commit_seconds', 'Time from message receipt to durable commit', [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25]),
  );
  readonly batchSize = this.add(new Histogram('parkops_ingest_batch_size', 'Readings committed together in one transaction', [1, 10, 50, 100, 250, 500, 1000, 2000]));
  readonly sseClients = this.add(new Gauge('parkops_sse_clients', 'Open /api/stream connections'));

  add<T extends Metric>(m: T): T {
    this.all.push(m);
    return m;
  }

  render(): string {
    const mem = process.memoryUsage();
    return (
      [
        ...this.all.map((m) => m.render()),
        `# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ${mem.rss}`,
        `# HELP nodejs_heap_used_bytes V8 heap used.\n# TYPE nodejs_heap_used_bytes gauge\nnodejs_heap_used_bytes ${mem.heapUsed}`,
        `# HELP process_uptime_seconds Process uptime.\n# TYPE process_uptime_seconds gauge\nprocess_uptime_seconds ${Math.round(process.uptime())}`,
      ].join('\n') + '\n'
    );
  }
}
