/**
 * Prometheus text exposition (format 0.0.4) without a client library: counters and gauges are read
 * from the stages when scraped (no second copy of their state), histograms are kept here.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  collect(): string[];
}

/** Seconds; from 1 ms to 10 s, for per-stage latencies on a small box. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(readonly buckets: readonly number[] = LATENCY_BUCKETS) {}

  observe(labels: Labels, value: number): void {
    const series = this.seriesOf(labels);
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  /** The series of these labels, made at zero on first use. */
  private seriesOf(labels: Labels) {
    const key = labelText(labels);
    let series = this.series.get(key);
    if (!series) {
      series = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** `known`: label sets printed at zero before their first observation. */
  lines(name: string, known: readonly Labels[] = []): string[] {
    for (const labels of known) this.seriesOf(labels);
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly families: Family[] = [];

  /** A counter or gauge whose samples are read at scrape time. */
  collect(name: string, type: 'counter' | 'gauge', help: string, read: () => readonly Sample[] | number): void {
    this.families.push({
      name,
      help,
      type,
      collect: () => {
        const v = read();
        const samples = typeof v === 'number' ? [{ labels: {}, value: v }] : v;
        return samples.map((s) => `${name}${labelText(s.labels)} ${num(s.value)}`);
      },
    });
  }

  /**
   * `known`: the label sets that exist from the start (each camera), printed at zero until observed,
   * so that an alert on a rate sees the series before its first event.
   */
  histogram(name: string, help: string, buckets?: readonly number[], known: () => readonly Labels[] = () => []): Histogram {
    const h = new Histogram(buckets);
    this.families.push({ name, help, type: 'histogram', collect: () => h.lines(name, known()) });
    return h;
  }

  /** The whole exposition; a family whose reader throws is left out rather than failing the scrape. */
  text(): string {
    const out: string[] = [];
    for (const f of this.families) {
      let lines: string[];
      try {
        lines = f.collect();
      } catch {
        continue;
      }
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`, ...lines);
    }
    return out.join('\n') + '\n';
  }
}

export function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(Number.isInteger(v) ? v : Number(v.toPrecision(9)));
}
