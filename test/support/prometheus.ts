import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { Registry } from 'prom-client';

/** A scrape parsed with a Prometheus text-format parser, with look-ups by name and labels. */
export function parseScrape(text: string) {
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => families.find((f) => f.name === name);
  const matches = (labels: Record<string, string> | undefined, want: Record<string, string>) =>
    Object.entries(want).every(([k, v]) => labels?.[k] === v);
  return {
    families,
    family,
    /** Value of a counter or gauge sample (0 when absent). */
    value(name: string, labels: Record<string, string> = {}): number {
      const s = family(name)?.metrics.find((m) => matches(m.labels, labels));
      return s?.value === undefined ? 0 : Number(s.value);
    },
  };
}

/**
 * Count or sum of a histogram's observations read from prom-client itself:
 * the text-format parser drops the labels of histogram samples.
 */
export async function histogram(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<{ count: number; sum: number }> {
  const values = ((await registry.getSingleMetric(name)?.get())?.values ?? []) as {
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }[];
  const pick = (suffix: string) =>
    values.find((v) => v.metricName === `${name}_${suffix}` && Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
  return { count: pick('count'), sum: pick('sum') };
}
