/** The gate's guardrails: netab's defaults per metric, and a gate spec file (or a plan.yaml's guardrails). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';
import type { MetricSpec } from '../results/types.js';
import { defaultQuery } from './prometheus.js';

export type GateDecision = 'ADVANCE' | 'HOLD' | 'ROLLBACK';

export interface GuardrailSpec extends MetricSpec {
  query?: string;
}

export interface GateSpec {
  alpha: number;
  minSamples: number;
  maxFailedFraction: number;
  metrics: GuardrailSpec[];
}

/** Defaults for metric names netab knows (README: default judging per metric); every one critical in a gate. */
const KNOWN: Record<string, Omit<MetricSpec, 'name' | 'required' | 'critical'>> = {
  goodput: { unit: 'Mbit/s', direction: 'higher', scale: 'log', margin: { kind: 'relative', value: 0.02 } },
  retrans: { unit: 'ratio', direction: 'lower', scale: 'linear', margin: { kind: 'absolute', value: 0.005 } },
  retrans_ratio: { unit: 'ratio', direction: 'lower', scale: 'linear', margin: { kind: 'absolute', value: 0.005 } },
  timeouts: { unit: 'ratio', direction: 'lower', scale: 'linear', margin: { kind: 'absolute', value: 0.001 } },
  failures: { unit: 'ratio', direction: 'lower', scale: 'linear', margin: { kind: 'absolute', value: 0.01 } },
  rtt_p50: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.05 } },
  rtt_p99: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.1 } },
  fct_p50: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.05 } },
  fct_p99: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.1 } },
  ttfb_p50: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.05 } },
  plt: { unit: 'ms', direction: 'lower', scale: 'log', margin: { kind: 'relative', value: 0.05 } },
};

function marginOf(v: unknown, where: string): MetricSpec['margin'] {
  if (typeof v === 'number' && v >= 0 && Number.isFinite(v)) return { kind: 'absolute', value: v };
  if (typeof v === 'string' && /^\d+(\.\d+)?%$/.test(v.trim()) && Number.parseFloat(v) < 100)
    return { kind: 'relative', value: Number.parseFloat(v) / 100 };
  if (
    v &&
    typeof v === 'object' &&
    ((v as { kind?: string }).kind === 'relative' || (v as { kind?: string }).kind === 'absolute') &&
    typeof (v as { value?: unknown }).value === 'number'
  )
    return { ...(v as MetricSpec['margin']) };
  throw new InputError(`${where}: margin must be "2%" (relative) or a number (absolute), got ${JSON.stringify(v)}`);
}

export function defaultGuardrail(name: string): GuardrailSpec {
  const k = KNOWN[name];
  if (!k)
    throw new InputError(
      `metric "${name}": netab has no default direction and margin for it; describe it in --spec (name, direction, margin, scale)`,
    );
  const q = defaultQuery(name);
  return { name, ...k, margin: { ...k.margin }, critical: true, required: true, ...(q ? { query: q } : {}) };
}

/** A gate spec: a file of its own or a `netab rollout plan` plan.yaml (its guardrails). */
export function loadSpec(file: string): Partial<GateSpec> & { metrics?: GuardrailSpec[] } {
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new InputError([{ file, path: '', message: `cannot read the gate spec: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (!doc || typeof doc !== 'object') throw new InputError([{ file, path: '', message: 'the gate spec must be a YAML mapping' }]);
  const list = (doc.guardrails ?? doc.metrics) as unknown;
  const out: Partial<GateSpec> & { metrics?: GuardrailSpec[] } = {};
  if (doc.alpha !== undefined) out.alpha = Number(doc.alpha);
  if (doc.min_samples !== undefined) out.minSamples = Number(doc.min_samples);
  if (doc.max_failed_fraction !== undefined) out.maxFailedFraction = Number(doc.max_failed_fraction);
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new InputError([{ file, path: 'guardrails', message: 'must be a list of metrics' }]);
    let needSamples = 0;
    out.metrics = list.map((raw, i) => {
      const r = raw as Record<string, unknown>;
      const where = `${file}: guardrails[${i}]`;
      if (!r || typeof r.name !== 'string') throw new InputError(`${where}: needs a name`);
      const base = KNOWN[r.name];
      const direction = (r.direction ?? base?.direction) as MetricSpec['direction'];
      if (direction !== 'higher' && direction !== 'lower') throw new InputError(`${where} (${r.name}): direction must be higher or lower`);
      const scale = (r.scale ?? base?.scale ?? 'linear') as MetricSpec['scale'];
      if (scale !== 'log' && scale !== 'linear') throw new InputError(`${where} (${r.name}): scale must be log or linear`);
      if (typeof r.min_samples_per_arm === 'number') needSamples = Math.max(needSamples, r.min_samples_per_arm);
      const query = typeof r.query === 'string' ? r.query : defaultQuery(r.name);
      return {
        name: r.name,
        unit: String(r.unit ?? base?.unit ?? ''),
        direction,
        scale,
        margin: r.margin === undefined && base ? { ...base.margin } : marginOf(r.margin, `${where} (${r.name})`),
        critical: r.critical === undefined ? true : Boolean(r.critical),
        required: true,
        ...(query ? { query } : {}),
      };
    });
    if (out.minSamples === undefined && needSamples > 0) out.minSamples = needSamples;
  }
  return out;
}
