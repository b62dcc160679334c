// The package ships JavaScript only; this is the part of its output the tests read.
declare module 'parse-prometheus-text-format' {
  interface Family {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }>;
  }
  /** Throws on a line that is not valid Prometheus text exposition. */
  export default function parsePrometheusTextFormat(text: string): Family[];
}
