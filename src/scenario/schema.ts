/**
 * The scenario file schema. It validates the raw YAML (values still in human units, each unit string
 * checked by the same parser that later normalises it) and doubles as the JSON Schema editors use
 * (`netab schema > netab.schema.json`).
 */
import { z } from 'zod/v4';
import {
  Buffer,
  DelayTime,
  DurationTime,
  MarginPercent,
  OffsetTime,
  Percent,
  Rate,
  RtoMinTime,
  Size,
  ToleranceTime,
} from './schema-units.js';
import { Aqm } from './schema-aqm.js';
import { scheduleFields } from './schedule.js';
import { TraceSchema } from './trace.js';
import { CongestionControl, SAFE_NAME_RULE, SafeName, SysctlKey, Sysctls, label } from './schema-names.js';

const Distribution = z.enum(['uniform', 'normal', 'pareto', 'paretonormal']);

const GeModel = z
  .object({
    p: Percent.describe('P(good -> bad) per packet'),
    r: Percent.optional().describe('P(bad -> good) per packet (default 100% - p)'),
    bad: Percent.optional().describe('loss probability in the bad state, netem "1-h" (default 100%)'),
    good: Percent.optional().describe('loss probability in the good state, netem "1-k" (default 0%)'),
  })
  .strict();

const Loss = z.union([
  Percent,
  z.object({ random: Percent, correlation: Percent.optional() }).strict(),
  z.object({ gemodel: GeModel }).strict(),
]);

const WithCorrelation = z.union([Percent, z.object({ probability: Percent, correlation: Percent.optional() }).strict()]);

const Reorder = z.union([
  Percent,
  z.object({ probability: Percent, correlation: Percent.optional(), gap: z.int().min(1).optional() }).strict(),
]);

const directionFields = {
  delay: DelayTime.optional().describe('one-way delay'),
  jitter: DelayTime.optional().describe('delay variation (netem jitter)'),
  jitter_correlation: Percent.optional(),
  distribution: Distribution.optional().describe('jitter distribution (netem: uniform when not given)'),
  loss: Loss.optional().describe('random loss ("1%", {random, correlation}) or Gilbert-Elliott ({gemodel: {p, r, bad, good}})'),
  reorder: Reorder.optional().describe('share of packets sent without delay; needs a delay'),
  duplicate: WithCorrelation.optional(),
  corrupt: WithCorrelation.optional(),
  rate: Rate.optional().describe('bottleneck rate'),
  buffer: Buffer.optional().describe('bottleneck queue size (needs a rate); default 1bdp'),
  aqm: Aqm.optional(),
  ...scheduleFields,
};

export const Direction = z.object(directionFields).strict();
export const LinkSchema = z
  .object({
    ...directionFields,
    forward: Direction.optional().describe('overrides for the data direction (sender side -> receiver side)'),
    reverse: Direction.optional().describe('overrides for the ACK direction (receiver side -> sender side)'),
    trace: TraceSchema.optional(),
    path: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'a path profile name of topologies/paths/ (e.g. lte-driving)' })
      .optional()
      .describe('a named link profile from topologies/paths/ (its fields are defaults for this link; see docs/schedules.md)'),
  })
  .strict()
  .describe('impairment of one link: top-level keys apply to both directions, forward/reverse override');

/** names that become part of a path or an id: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit */
export const RouteOptions = z
  .object({
    initcwnd: z.int().min(1).max(1000).optional(),
    initrwnd: z.int().min(1).max(1000).optional(),
    quickack: z.boolean().optional(),
    rto_min: RtoMinTime.optional(),
    congctl: CongestionControl.optional(),
  })
  .strict();

export const Profile = z
  .object({
    name: label(200).optional().describe('label shown in reports'),
    cc: CongestionControl.optional().describe('congestion control (per namespace)'),
    sysctls: Sysctls.optional().describe('integers, space-separated integers, or names for tcp_congestion_control / default_qdisc'),
    route: RouteOptions.optional().describe("route options on the host's default route"),
    apply_to: z
      .enum(['sender', 'receiver', 'both'])
      .optional()
      .describe('which endpoints get this profile (default sender: the host that sends the data, like an edge server)'),
  })
  .strict();

const MetricName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, { message: 'a metric name (lowercase letters, digits and _)' });
const LinkName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,15}$/, { message: 'a link name of the topology (1-16 lowercase letters, digits, - or _)' });
const DockerImage = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/, { message: 'an image reference like my-edge-proxy:1.2 or registry/name@sha256:...' });

const MetricOverride = z.union([
  z.literal(false),
  z
    .object({
      direction: z.enum(['higher', 'lower']).optional(),
      margin: z
        .union([MarginPercent, z.number().positive().max(1e9)])
        .optional()
        .describe('tolerance: relative ("2%", more than 0% and less than 100%) or absolute in metric units (a number above 0)'),
      critical: z.boolean().optional(),
      required: z.boolean().optional(),
    })
    .strict(),
]);

export const WorkloadSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('bulk'),
      duration: DurationTime.optional().describe('per trial, default 5s'),
      flows: z.int().min(1).max(64).optional().describe('parallel TCP streams, default 1'),
      omit: OffsetTime.optional().describe('iperf3 --omit: seconds at the start not counted, default 0s'),
      interval: DurationTime.optional().describe('sampling interval for RTT/goodput series, default 100ms'),
    })
    .strict()
    .describe('bulk throughput with iperf3'),
  z
    .object({
      type: z.literal('fct'),
      size: Size.optional().describe('response size of every transfer (or `sizes`)'),
      sizes: z
        .array(z.object({ size: Size, weight: z.number().positive().max(1e9) }).strict())
        .min(1)
        .optional()
        .describe('response size distribution, drawn per transfer from a seed both arms of a pair share'),
      transfers: z.int().min(1).max(100000).optional().describe('fresh connections per trial, one after another (default 20)'),
      gap: OffsetTime.optional().describe('pause between transfers (default 0ms)'),
      request: Size.optional().describe('request size (default 100B, min 16B)'),
    })
    .strict()
    .describe('flow completion time: a new connection per transfer'),
  z
    .object({
      type: z.literal('rr'),
      request: Size.optional().describe('default 100B (min 16B)'),
      response: Size.optional().describe('default 1KB'),
      count: z.int().min(1).max(1000000).optional().describe('exchanges per trial (default 100)'),
      gap: OffsetTime.optional().describe('pause between exchanges (default 0ms)'),
    })
    .strict()
    .describe('request/response over one persistent connection'),
  z
    .object({
      type: z.literal('pageload'),
      objects: z.array(Size).min(1).describe('object sizes of the page'),
      connections: z.int().min(1).max(64).optional().describe('parallel fresh connections (default 6)'),
      pages: z.int().min(1).max(10000).optional().describe('page loads per trial (default 3); plt is their mean'),
      gap: OffsetTime.optional().describe('between page loads (default 0ms)'),
      request: Size.optional().describe('default 300B'),
    })
    .strict()
    .describe('a first visit: objects over k parallel fresh connections, time to the last byte'),
  z
    .object({
      type: z.literal('compete'),
      flows: z.int().min(1).max(32).optional().describe('flows per arm (default 1)'),
      duration: DurationTime.optional().describe('measured overlap (default 10s)'),
      stagger: OffsetTime.optional().describe('the competitor starts this much later (default 0s)'),
      omit: OffsetTime.optional().describe('start of the overlap not counted (default 0s)'),
      interval: DurationTime.optional().describe('iperf3 reporting interval (default 500ms)'),
      baseline: z.boolean().optional().describe('run control alone first in each trial, for control_harm (default true)'),
    })
    .strict()
    .describe(
      'both arms share the bottleneck: the control trial competes with a second control-profile flow, the canary trial with the canary',
    ),
  z
    .object({
      type: z.literal('http'),
      size: Size.optional().describe("response size with netab's own server (default 45KB): it serves /bytes/<n>"),
      path: z
        .string()
        .max(1024)
        .regex(/^\/[\x21-\x7e]*$/, { message: 'a path starts with / and has no spaces or control characters' })
        .optional()
        .describe('path to GET (needed when docker.sender runs your own server)'),
      port: z.int().min(1).max(65535).optional().describe('server port (default: docker.sender.port, else 8080)'),
      requests: z.int().min(1).max(100000).optional().describe('GETs per trial, each on a fresh connection (default 20)'),
      gap: OffsetTime.optional().describe('pause between requests (default 0ms)'),
    })
    .strict()
    .describe("HTTP GETs from the receiver host to a server on the sender host: netab's own, or the docker.sender image"),
]);

export const CrossTrafficSchema = z
  .object({
    sources: z.int().min(1).max(64).optional().describe('independent on/off sources (default 1)'),
    on: z
      .object({ mean: DurationTime, shape: z.number().gt(1).max(100).optional() })
      .strict()
      .optional()
      .describe('Pareto on periods: mean (default 500ms), shape (default 1.5)'),
    off: z.object({ mean: DurationTime }).strict().optional().describe('exponential off periods: mean (default 1s)'),
    request: Size.optional(),
  })
  .strict()
  .describe('bursty background flows across the bottleneck from their own hosts, the same for both arms');

export const TrialsSchema = z
  .object({
    pairs: z.int().min(1).max(10000).optional().describe('measured control/canary pairs (default 10)'),
    warmup: z.int().min(0).max(100).optional().describe('warm-up pairs run first and discarded (default 1)'),
    timeout: DurationTime.optional().describe('per-trial timeout (default: workload duration + 30s)'),
    replace_budget: Percent.optional().describe(
      'suspect pairs are re-run at the end, up to this share of pairs extra (default 25%; 0% turns it off)',
    ),
  })
  .strict();

export const JudgeSchema = z
  .object({
    alpha: z.number().gt(0).lt(0.5).optional(),
    min_pairs: z.int().min(2).max(10000).optional(),
    primary: MetricName.optional(),
    expect_improvement: z.boolean().optional(),
    noncritical_regressions_to_fail: z.int().min(1).max(1000).optional(),
    max_failed: Percent.optional().describe('max share of failed or suspect trials before the decision is HOLD'),
    exclude_suspect: z.boolean().optional(),
    drift_alpha: z.number().min(0).lt(0.5).optional().describe("level of the drift gate's test (default: alpha; 0 turns the gate off)"),
    sequential: z
      .boolean()
      .optional()
      .describe('look after each block of pairs and stop early once the decision is settled (alpha spending)'),
    looks: z.int().min(2).max(20).optional().describe('planned looks in sequential mode (default 4): trials.pairs is the maximum'),
    metrics: z.record(MetricName, MetricOverride).optional(),
  })
  .strict();

export const FidelitySchema = z
  .object({
    enabled: z.boolean().optional(),
    rtt_tolerance: ToleranceTime.optional().describe('|measured - configured| RTT p50 (default 0.5ms)'),
    rate_tolerance: Percent.optional().describe('default 3%'),
    samples: z.int().min(20).max(100000).optional().describe('RTT probes (default 500)'),
    strict: z.boolean().optional().describe('fail the scenario when fidelity is out of tolerance (default false: flag it)'),
    lateness_suspect: ToleranceTime.optional().describe(
      'relay lateness p99 above which a trial is flagged suspect (default max(2ms, 10% of the path RTT))',
    ),
    cpu_suspect: Percent.optional().describe(
      "host CPU busy share during a trial named as context in a suspect trial's reason (default 99%); CPU load alone never makes a trial suspect",
    ),
  })
  .strict();

const DockerEndpoint = z
  .object({
    image: DockerImage.describe('a local image (netab never pulls)'),
    command: z.array(label(4096)).max(256).optional().describe("argv replacing the image's command"),
    port: z.int().min(1).max(65535).optional().describe('TCP port it listens on: setup waits for it'),
  })
  .strict();

export const DockerSchema = z
  .object({
    image: DockerImage.optional().describe('image of every endpoint host (default: netab/endpoint, built locally)'),
    sender: DockerEndpoint.optional().describe('the senders of both arms run this: the tuned server side (e.g. your HTTP server)'),
    receiver: DockerEndpoint.optional().describe('the receivers of both arms run this'),
  })
  .strict()
  .describe('backend: docker: endpoint images');

export const ScenarioSchema = z
  .object({
    $schema: label(4096).optional(),
    name: SafeName.optional().describe(`defaults to the file name; ${SAFE_NAME_RULE}`),
    description: label(4096, true).optional(),
    topology: label(4096).min(1).describe('a topology in topologies/ (dumbbell, parking-lot, client-edge-origin) or a path'),
    backend: z.enum(['netns', 'docker']).optional(),
    docker: DockerSchema.optional(),
    engine: z.enum(['auto', 'netem', 'userspace']).optional(),
    seed: z.int().min(0).optional(),
    links: z.record(LinkName, LinkSchema).optional().describe('impairment per link name of the topology'),
    endpoints: z
      .object({ sysctls: Sysctls.optional() })
      .strict()
      .optional()
      .describe('sysctls applied to every endpoint of both arms before the profiles'),
    control: Profile,
    canary: Profile,
    workload: WorkloadSchema,
    cross_traffic: CrossTrafficSchema.optional(),
    trials: TrialsSchema.optional(),
    judge: JudgeSchema.optional(),
    fidelity: FidelitySchema.optional(),
    matrix: z
      .record(
        z
          .string()
          .max(256)
          .regex(/^[A-Za-z_][\w-]*(\.[\w-]+)*$/, { message: 'matrix keys are dotted paths like links.bottleneck.delay' }),
        z.array(z.unknown()).min(1),
      )
      .optional()
      .describe('dotted path -> list of values; the file expands to the cartesian product'),
    report: z
      .object({
        pivot: z
          .object({
            rows: z.array(label(256)).min(1).max(16).optional().describe('matrix dimensions as rows (a matrix key or its last part)'),
            cols: z.array(label(256)).min(1).max(16).optional().describe('matrix dimensions as columns'),
          })
          .strict()
          .optional()
          .describe('the sweep pivot of the primary metric (default: the last dimension as columns, the others as rows)'),
      })
      .strict()
      .optional()
      .describe('report settings (presentation only)'),
  })
  .strict();

export type ScenarioFile = z.infer<typeof ScenarioSchema>;
export type LinkInput = z.infer<typeof LinkSchema>;
export type DirectionInput = z.infer<typeof Direction>;
export type ProfileInput = z.infer<typeof Profile>;

export function jsonSchema(): unknown {
  const s = z.toJSONSchema(ScenarioSchema, { unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...s, title: 'netab scenario' };
}

type AnySchema = z.core.$ZodType;
const defOf = (s: AnySchema) => (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;

/**
 * Resolve a matrix path (dot-separated) against the scenario schema: the property keys it sets in
 * the document, or why it names no field. A sysctl key takes the rest of the path
 * (`canary.sysctls.net.ipv4.tcp_ecn` -> canary / sysctls / net.ipv4.tcp_ecn).
 */
export function resolveSchemaPath(dotted: string): { keys: string[] } | { error: string } {
  const segs = dotted.split('.');
  if (segs[0] === 'matrix') return { error: 'the matrix cannot vary itself' };
  const walk = (schema: AnySchema, i: number, keys: string[]): { keys: string[] } | { error: string } => {
    if (i === segs.length) return { keys };
    const d = defOf(schema);
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'readonly':
        return walk(d.innerType as AnySchema, i, keys);
      case 'pipe':
        return walk(d.in as AnySchema, i, keys);
      case 'union': {
        let first: { error: string } | undefined;
        for (const o of d.options as AnySchema[]) {
          const r = walk(o, i, keys);
          if ('keys' in r) return r;
          first ??= r;
        }
        return first ?? { error: `"${segs.slice(0, i).join('.')}" has no field "${segs[i]}"` };
      }
      case 'object': {
        const shape = d.shape as Record<string, AnySchema>;
        const k = segs[i]!;
        if (!Object.hasOwn(shape, k)) {
          const where = i === 0 ? 'a scenario' : `"${segs.slice(0, i).join('.')}"`;
          return { error: `${where} has no field "${k}" (it has: ${Object.keys(shape).join(', ')})` };
        }
        return walk(shape[k]!, i + 1, [...keys, k]);
      }
      case 'record': {
        if (d.keyType === SysctlKey) return { keys: [...keys, segs.slice(i).join('.')] };
        return walk(d.valueType as AnySchema, i + 1, [...keys, segs[i]!]);
      }
      default:
        return { error: `"${segs.slice(0, i).join('.')}" is a value: it has no field "${segs[i]}"` };
    }
  };
  return walk(ScenarioSchema, 0, []);
}
