/** Inlined stylesheet for report.html: system fonts only, no url(), no @import. */
export const css = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
h2 { font-size: 20px; margin: 34px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
h4 { font-size: 13px; margin: 14px 0 4px; }
code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.small { font-size: 11px; }
.hint { color: var(--muted); margin: 4px 0 10px; }
.warn { color: #cf222e; }

.decision { border-radius: 10px; padding: 18px 22px; margin: 4px 0 10px; border: 1px solid; }
.decision-word { font-size: 13px; font-weight: 700; letter-spacing: .08em; }
.decision-sentence { font-size: 21px; font-weight: 600; margin: 6px 0 10px; line-height: 1.3; overflow-wrap: anywhere; }
.d-promote { background: #dafbe1; border-color: #4ac26b; color: #0f3d1c; }
.d-rollback { background: #ffebe9; border-color: #ff8182; color: #5c0b0b; }
.d-hold { background: #fff8c5; border-color: #d4a72c; color: #3b2300; }
.facts { margin: 4px 0; display: flex; flex-wrap: wrap; gap: 6px; }
.facts span { background: rgba(255,255,255,.65); border: 1px solid rgba(0,0,0,.1); border-radius: 12px; padding: 1px 9px; font-size: 12.5px; }
.facts .tag { font-weight: 600; }
.runid { margin: 6px 0 0; font-size: 12px; opacity: .8; }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; }
.matrix { width: 100%; font-size: 13px; }
.matrix th, .matrix td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: middle; }
.matrix thead th { background: var(--soft); font-weight: 600; font-size: 12.5px; }
.matrix .unit, .metrics .unit { font-weight: 400; color: var(--muted); font-size: 11.5px; }
.matrix th.scn { background: #fff; font-weight: 600; max-width: 280px; overflow-wrap: anywhere; }
.sid { font-weight: 400; color: var(--muted); font-size: 11.5px; font-family: ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.matrix td.param { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; }
.matrix td.cell { text-align: center; white-space: nowrap; min-width: 104px; }
.matrix .eff { display: block; font-weight: 700; font-variant-numeric: tabular-nums; }
.matrix .ci { display: block; font-size: 11px; opacity: .85; font-variant-numeric: tabular-nums; }
.matrix td.verdict { font-weight: 600; white-space: nowrap; }
.matrix.pivot { width: auto; }
.matrix.pivot th.param { background: var(--soft); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; white-space: nowrap; }
.v-improved { background: #1a7f37; color: #fff; }
.v-pass { background: #d1f0d8; color: #0f3d1c; }
.v-regressed { background: #cf222e; color: #fff; }
.v-inconclusive { background: #fbe6a2; color: #4d3800; }
.v-nodata { background: #eaeef2; color: #424a53; }
.v-error { background: #6639ba; color: #fff; }
.v-none { background: #fff; color: #8c959f; text-align: center; }
.legend { margin: 8px 0; display: flex; gap: 6px; flex-wrap: wrap; }
.chip, .badge { border-radius: 10px; padding: 1px 9px; font-size: 12px; font-weight: 600; display: inline-block; }
.badge { font-size: 13px; vertical-align: 2px; margin-right: 4px; }

.scenario h2 { overflow-wrap: anywhere; }
.params { margin: 4px 0; display: flex; gap: 6px; flex-wrap: wrap; }
.param-chip { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0 7px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.reasons { margin: 6px 0; padding-left: 20px; }
.reasons li { overflow-wrap: anywhere; }
.metrics, .phases { font-size: 13px; width: 100%; margin-top: 6px; }
.metrics th, .metrics td, .phases th, .phases td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; }
.metrics thead th, .phases thead th { background: var(--soft); font-size: 12px; }
.metrics td.num, .phases td.num, .phases td:first-child { font-variant-numeric: tabular-nums; white-space: nowrap; }
.metrics td.verdict { white-space: nowrap; font-weight: 600; }
.metrics tr.note td { color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding-top: 0; }

.charts { display: flex; flex-wrap: wrap; gap: 12px 18px; align-items: flex-start; }
.charts figure { margin: 0; flex: 1 1 440px; max-width: 620px; }
.charts figure.wide { flex-basis: 620px; max-width: 760px; }
.charts figcaption { font-size: 12px; color: var(--muted); }
.charts.theory > div { flex: 1 1 320px; }
svg.chart { display: block; width: 100%; max-width: 100%; height: auto; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 11px; overflow: visible; }
svg.chart text { fill: #1f2328; }
svg.chart .axis path { stroke: #8c959f; stroke-width: 1; fill: none; }
svg.chart .axis path.grid { stroke: #eaeef2; }
svg.chart .muted { fill: #59636e; }
svg.chart .small { font-size: 10px; }
svg.chart .chart-title { font-weight: 600; font-size: 11.5px; }
svg.chart .arm-label { font-weight: 600; }
svg.chart .axis-label { fill: #59636e; }
svg.chart .value { font-variant-numeric: tabular-nums; }
svg.chart text.ref-label { font-size: 10.5px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.chart text.sched-label { font-size: 9.5px; paint-order: stroke; stroke: #fff; stroke-width: 2.5px; }
table.phases caption { text-align: left; font-weight: 600; padding: 4px 0; }

.kv { font-size: 13px; }
.kv th { text-align: left; font-weight: 500; color: var(--muted); padding: 2px 14px 2px 0; vertical-align: top; white-space: nowrap; }
.kv td { padding: 2px 0; overflow-wrap: anywhere; }
.grid-table { font-size: 12.5px; margin: 4px 0; }
.grid-table th, .grid-table td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; overflow-wrap: anywhere; }
.grid-table thead th { background: var(--soft); }
.grid-table tr.differs td { background: #fff8c5; }
.grid-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
details.scenario-env, details.failures { margin: 14px 0 0; border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; background: #fcfdfe; }
details summary { cursor: pointer; color: var(--muted); }
pre.command { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
footer .warnings { color: #9a6700; }
@media print { .charts figure { break-inside: avoid; } .decision, .v-improved, .v-pass, .v-regressed, .v-inconclusive, .v-nodata, .v-error { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
`;
