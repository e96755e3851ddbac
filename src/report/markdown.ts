/**
 * summary.md: the decision, the scenario x metric matrix and the sweep pivots in GitHub-flavoured Markdown,
 * suitable for $GITHUB_STEP_SUMMARY or a PR comment. All user text is Markdown- and HTML-escaped.
 */
import type { ManifestScenario, MetricResult, RunManifest, Verdict } from '../results/types.js';
import { failureLine, fidelityLine, multiplicityLine, replacementLine } from './failures.js';
import { decisionSentence, decisionView, effectView, escMd, fmtEffect, fmtInterval, shellQuote, verdictStyle } from './format.js';
import { type ExpectedFn, sweepPivots } from './sweep.js';

/**
 * `expected`: the sweep's theory hook (see sweep.ts); `scheduleNotes`: per scenario id, the schedule
 * phases its telemetry flagged (schedule-view.ts scheduleFidelityNotes).
 */
export function renderMarkdown(
  verdict: Verdict,
  manifest?: RunManifest | null,
  expected?: ExpectedFn,
  scheduleNotes?: Map<string, string>,
): string {
  const d = decisionView(verdict.decision);
  const man = new Map((manifest?.scenarios ?? []).map((s) => [s.id, s]));
  const out: string[] = [];
  out.push(`## ${d.emoji} netab: ${d.word}`);
  out.push('');
  out.push(`**${escMd(decisionSentence(verdict.decision, verdict.reasons))}**`);
  const reasons = verdict.reasons ?? [];
  if (reasons.length > 1) {
    out.push('');
    for (const r of reasons) out.push(`- ${escMd(r)}`);
  }
  out.push('');
  const facts = [
    `run \`${String(verdict.runId ?? manifest?.runId ?? '').replace(/`/g, "'")}\``,
    `${verdict.scenarios.length} scenario${verdict.scenarios.length === 1 ? '' : 's'}`,
    `α = ${verdict.alpha}`,
    `exit code ${d.exitCode}`,
  ];
  if (verdict.morePairs) facts.push(`≈${verdict.morePairs} more pairs would settle it`);
  if (manifest?.aa) facts.push('A/A run');
  const mult = multiplicityLine(verdict.multiplicity);
  if (mult) facts.push(escMd(mult));
  if (manifest?.interrupted) facts.push('**run interrupted**');
  out.push(facts.join(' · '));
  out.push('');

  out.push(...matrixLines(verdict, man));
  out.push(...pivotLines(verdict, manifest, expected));

  // scenario reasons that explain non-passing verdicts
  const notable = verdict.scenarios.filter((s) => s.verdict !== 'PASS' && s.verdict !== 'IMPROVED' && (s.reasons ?? []).length);
  if (notable.length) {
    out.push('<details><summary>Why</summary>');
    out.push('');
    for (const s of notable) out.push(`- **${escMd(s.name)}** (${s.verdict}): ${(s.reasons ?? []).map(escMd).join('; ')}`);
    out.push('');
    out.push('</details>');
    out.push('');
  }
  out.push(...failureLines(verdict, man, scheduleNotes));
  if (manifest?.command?.length) {
    out.push(
      `Re-run: \`${shellQuote(manifest.command.map(String))
        .replace(/`/g, "'")
        .replace(/[\r\n]+/g, ' ')}\` · netab ${escMd(manifest.netabVersion ?? '')} · seed ${manifest.seed}`,
    );
    out.push('');
  }
  return out.join('\n');
}

/** The scenario x metric matrix as a GFM table, with its legend. */
function matrixLines(verdict: Verdict, man: Map<string, ManifestScenario>): string[] {
  const lines: string[] = [];
  const paramKeys: string[] = [];
  const metricCols: Pick<MetricResult, 'name' | 'unit' | 'direction' | 'critical'>[] = [];
  for (const s of verdict.scenarios) {
    for (const k of Object.keys(s.params ?? {})) if (!paramKeys.includes(k)) paramKeys.push(k);
    for (const m of s.metrics ?? []) if (!metricCols.some((c) => c.name === m.name)) metricCols.push(m);
  }
  if (verdict.scenarios.length) {
    const head = [
      'Scenario',
      ...paramKeys.map(escMd),
      'Verdict',
      ...metricCols.map(
        (m) => `${m.critical ? '★ ' : ''}${escMd(m.name)} ${m.direction === 'lower' ? '↓' : '↑'}${m.unit ? ` (${escMd(m.unit)})` : ''}`,
      ),
    ];
    lines.push(`| ${head.join(' | ')} |`);
    lines.push(`| ${head.map((_, i) => (i >= paramKeys.length + 2 ? ':---:' : '---')).join(' | ')} |`);
    for (const s of verdict.scenarios) {
      const sc = man.get(s.id);
      const cells = metricCols.map((c) => {
        const m = (s.metrics ?? []).find((x) => x.name === c.name);
        if (!m) return '—';
        const e = effectView(m, sc);
        const st = verdictStyle(m.verdict);
        if (e.est === null) return `${st.emoji} ${m.verdict}`;
        const iv = fmtInterval(e);
        return `${st.emoji} ${escMd(fmtEffect(e))}${iv ? ` ${escMd(iv)}` : ''}`;
      });
      const row = [
        `**${escMd(s.name)}**`,
        ...paramKeys.map((k) => (s.params && k in s.params ? escMd(String(s.params[k])) : '')),
        `${verdictStyle(s.verdict).emoji} ${s.verdict}`,
        ...cells,
      ];
      lines.push(`| ${row.join(' | ')} |`);
    }
    lines.push('');
    lines.push(
      'Effect of the canary vs control with its confidence interval; **+ means the canary is better** (a drop in a ↓ metric shows as +). 🟢 improved · ✅ pass · 🟡 inconclusive · 🔴 regressed · ⚪ no data · 🟣 error',
    );
    lines.push('');
  }
  return lines;
}

/** Each sweep's pivot of the primary metric: rows and columns labelled with the dimension values. */
function pivotLines(verdict: Verdict, manifest: RunManifest | null | undefined, expected: ExpectedFn | undefined): string[] {
  const lines: string[] = [];
  for (const p of sweepPivots(verdict, manifest, { expected })) {
    lines.push(`### Sweep: ${escMd(p.metric)} ${p.arrow}${p.unit ? ` (${escMd(p.unit)})` : ''}${p.fixed ? `, ${escMd(p.fixed)}` : ''}`);
    lines.push('');
    if (p.tooBig !== null) {
      lines.push(`${p.tooBig} cells: too many to show here; every row is in sweep.csv.`, '');
      continue;
    }
    const head = [...p.rowDims.map((d) => escMd(d.label)), ...p.cols.map(escMd)];
    lines.push(`| ${head.join(' | ')} |`);
    lines.push(`| ${head.map((_, i) => (i < p.rowDims.length ? '---' : ':---:')).join(' | ')} |`);
    for (const r of p.rows) {
      const cells = r.cells.map((c) =>
        c.empty
          ? c.text
          : [
              `${c.emoji} ${escMd(c.text)}`,
              c.interval ? `<sub>${escMd(c.interval)}</sub>` : '',
              c.expected ? `<sub>${escMd(c.expected)}</sub>` : '',
            ]
              .filter(Boolean)
              .join(' '),
      );
      lines.push(`| ${[...r.heads.map(escMd), ...cells].join(' | ')} |`);
    }
    lines.push('');
    const code = (k: string) => `\`${k.replace(/[`\r\n]/g, '')}\``;
    const named = (ds: { key: string; label: string }[]) =>
      ds.map((d) => (d.key === d.label ? code(d.key) : `${escMd(d.label)} (${code(d.key)})`)).join(', ');
    lines.push(
      `Effect on ${escMd(p.metric)} in %, canary vs control (+ means the canary is better), with its confidence interval; rows: ${named(p.rowDims)}${p.colDims.length ? `; columns: ${named(p.colDims)}` : ''}. Every row is in sweep.csv.`,
    );
    lines.push('');
  }
  return lines;
}

/** The failure test, the suspect pairs re-run and a path that missed its fidelity check, one item per scenario that has any. */
function failureLines(verdict: Verdict, man: Map<string, ManifestScenario>, scheduleNotes?: Map<string, string>): string[] {
  const extra = verdict.scenarios.flatMap((s) => {
    const sc = man.get(s.id);
    const lines = [
      failureLine(s.failures)?.text,
      replacementLine(sc?.replacements),
      fidelityLine(sc?.fidelity),
      scheduleNotes?.get(s.id),
    ].filter((l): l is string => !!l);
    return lines.length ? [`- **${escMd(s.name)}**: ${lines.map(escMd).join('; ')}`] : [];
  });
  return extra.length ? ['Failures, re-runs and path fidelity:', '', ...extra, ''] : [];
}
