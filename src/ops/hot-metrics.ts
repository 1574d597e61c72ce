// Counters and histograms for code on the order path. prom-client's own `inc(labels)` /
// `observe(labels)` hash the label object on every call (string building); here the caller
// resolves a cell once for its labels (at session or adapter set-up) and the hot path only adds to
// a number. prom-client reads the cells when /metrics is scraped: each class implements the
// metric shape its Registry formats (`get()` → name, help, type, values).
import type { Registry } from 'prom-client';

export type Labels = Readonly<Record<string, string>>;

export class CounterCell {
  n = 0;
  constructor(readonly labels: Labels) {}

  inc(): void {
    this.n++;
  }
}

export class HistogramCell {
  /** counts[i]: observations <= bounds[i] (not cumulative; summed when scraped); the last is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** Cells by their label values, in label-name order (a key built only when a cell is resolved). */
abstract class CellFamily<C extends { labels: Labels }> {
  private readonly cells = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The registry only needs `name` and `get()`; its type asks for prom-client's own classes.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The cell for these labels (created on first use). Resolve once, keep it. */
  cell(labels: Labels): C {
    const key = this.labelNames.map((n) => {
      const v = labels[n];
      if (v === undefined) throw new Error(`metric ${this.name}: label ${n} missing`);
      return v;
    });
    const k = JSON.stringify(key);
    let c = this.cells.get(k);
    if (!c) {
      c = this.create(Object.fromEntries(this.labelNames.map((n, i) => [n, key[i]])));
      this.cells.set(k, c);
    }
    return c;
  }

  protected all(): IterableIterator<C> {
    return this.cells.values();
  }

  protected abstract create(labels: Labels): C;
  abstract get(): MetricSnapshot;
}

export class HotCounter extends CellFamily<CounterCell> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterCell {
    return new CounterCell(labels);
  }

  get(): MetricSnapshot {
    const values = [...this.all()].map((c) => ({ labels: c.labels, value: c.n }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export class HotHistogram extends CellFamily<HistogramCell> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected create(labels: Labels): HistogramCell {
    return new HistogramCell(labels, this.buckets);
  }

  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const c of this.all()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += c.counts[i];
        const le = i < this.buckets.length ? String(this.buckets[i]) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...c.labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
