import parsePrometheusTextFormat from 'parse-prometheus-text-format';

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
    /** Observation count of a histogram sample (0 when absent). */
    count(name: string, labels: Record<string, string> = {}): number {
      const s = family(name)?.metrics.find((m) => matches(m.labels, labels));
      return s?.count === undefined ? 0 : Number(s.count);
    },
  };
}
