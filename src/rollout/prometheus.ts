/**
 * Production samples from a real Prometheus server over its HTTP API (/api/v1/query_range): one
 * range query per metric and host group, one sample per series (host) per step. Every failure is an
 * EnvError (exit 3) with one line: server unreachable or timing out, an HTTP or API error, a query
 * whose selector matches no series. A bad query is an InputError (exit 2). Never a silent empty result.
 */
import { EnvError, InputError } from '../errors.js';
import type { Sample } from './samples.js';

/**
 * PromQL templates for metrics netab knows how to read from node exporter. $SELECTOR is replaced by
 * the host group's label matchers (without braces), $STEP by the step (the window of each sample,
 * so samples do not overlap). Per host: sum by (instance).
 */
const DEFAULT_QUERIES: Record<string, string> = {
  retrans:
    'sum by (instance) (increase(node_netstat_Tcp_RetransSegs{$SELECTOR}[$STEP])) / sum by (instance) (increase(node_netstat_Tcp_OutSegs{$SELECTOR}[$STEP]))',
  retrans_ratio:
    'sum by (instance) (increase(node_netstat_Tcp_RetransSegs{$SELECTOR}[$STEP])) / sum by (instance) (increase(node_netstat_Tcp_OutSegs{$SELECTOR}[$STEP]))',
  timeouts:
    'sum by (instance) (increase(node_netstat_TcpExt_TCPTimeouts{$SELECTOR}[$STEP])) / sum by (instance) (increase(node_netstat_Tcp_OutSegs{$SELECTOR}[$STEP]))',
};

export function defaultQuery(metric: string): string | undefined {
  return DEFAULT_QUERIES[metric];
}

export function promDuration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

/** Fill a query template. The selector is a list of label matchers, e.g. job="node",group="canary". */
export function fillQuery(template: string, selector: string, stepS: number): string {
  const sel = selector.trim().replace(/^\{|\}$/g, '');
  if (!template.includes('$SELECTOR'))
    throw new InputError(`query "${template}" has no $SELECTOR placeholder: it could not tell control from canary hosts`);
  return template.replaceAll('$SELECTOR', sel).replaceAll('$STEP', promDuration(stepS));
}

export interface RangeQuery {
  url: string;
  query: string;
  startS: number;
  endS: number;
  stepS: number;
  timeoutMs: number;
}

interface PromSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** One /api/v1/query_range call; returns the matrix. */
export async function queryRange(q: RangeQuery): Promise<PromSeries[]> {
  const base = q.url.replace(/\/+$/, '');
  const params = new URLSearchParams({ query: q.query, start: String(q.startS), end: String(q.endS), step: String(q.stepS) });
  const endpoint = `${base}/api/v1/query_range`;
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: params.toString(),
      signal: AbortSignal.timeout(q.timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      throw new EnvError(`Prometheus at ${base} did not answer within ${q.timeoutMs / 1000} s`);
    throw new EnvError(`Prometheus at ${base} is not reachable: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
  }
  let body: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: PromSeries[] } };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new EnvError(`Prometheus at ${base} answered HTTP ${res.status} without a JSON body (is ${base} a Prometheus server?)`);
  }
  if (body.status !== 'success') {
    if (body.errorType === 'bad_data')
      throw new InputError(`Prometheus rejected the query ${JSON.stringify(q.query)}: ${body.error ?? 'bad_data'}`);
    throw new EnvError(`Prometheus at ${base}: ${body.errorType ?? `HTTP ${res.status}`}: ${body.error ?? 'query failed'}`);
  }
  if (body.data?.resultType !== 'matrix' || !Array.isArray(body.data.result))
    throw new EnvError(`Prometheus at ${base}: expected a matrix result, got ${String(body.data?.resultType)}`);
  return body.data.result;
}

export interface PrometheusSource {
  url: string;
  /** label matchers of the control and canary host groups */
  control: string;
  canary: string;
  startS: number;
  endS: number;
  stepS: number;
  timeoutMs: number;
}

/** The host a series belongs to: its instance label, else its whole label set. */
function hostOf(labels: Record<string, string>): string {
  if (labels.instance) return labels.instance;
  const s = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return s || 'series';
}

/**
 * Samples of every metric for both arms: one per series (host) per step. A metric/arm whose query
 * returns no series is an EnvError naming the metric and selector (exit 3).
 */
export async function prometheusSamples(
  src: PrometheusSource,
  metrics: Array<{ name: string; query: string }>,
): Promise<Record<'control' | 'canary', Sample[]>> {
  const out: Record<'control' | 'canary', Sample[]> = { control: [], canary: [] };
  for (const arm of ['control', 'canary'] as const) {
    const byKey = new Map<string, Sample>();
    for (const m of metrics) {
      const query = fillQuery(m.query, src[arm], src.stepS);
      const series = await queryRange({
        url: src.url,
        query,
        startS: src.startS,
        endS: src.endS,
        stepS: src.stepS,
        timeoutMs: src.timeoutMs,
      });
      if (series.length === 0)
        throw new EnvError(
          `metric ${m.name}: the ${arm} selector {${src[arm].replace(/^\{|\}$/g, '')}} matches no series in Prometheus at ${src.url} (query ${query})`,
        );
      for (const s of series) {
        const host = hostOf(s.metric);
        for (const [ts, v] of s.values) {
          const key = `${host}\u0000${ts}`;
          let sample = byKey.get(key);
          if (!sample) {
            sample = { host, t: Number(ts), status: 'ok', metrics: {} };
            byKey.set(key, sample);
          }
          const x = Number(v);
          sample.metrics[m.name] = Number.isFinite(x) ? x : null;
        }
      }
    }
    out[arm] = [...byKey.values()].sort((a, b) => (a.t ?? 0) - (b.t ?? 0) || a.host.localeCompare(b.host));
  }
  return out;
}
