"""The report's stylesheet: inline, system fonts only, light and dark themes.

The page loads nothing: no web fonts, no images, no scripts. Colours are CSS variables so
that the SVG charts follow the theme the reader's system asks for (dark at 3 a.m.).

>>> "@media (prefers-color-scheme: dark)" in STYLESHEET, "url(" in STYLESHEET
(True, False)
"""

from __future__ import annotations

STYLESHEET = """
:root {
  --bg: #ffffff; --fg: #1b1f24; --muted: #5b6570; --line: #d7dce1; --panel: #f5f7f9;
  --bad: #c62828; --bad-bg: #fdecea; --warn: #a15c00; --warn-bg: #fff4e0;
  --good: #2e7d32; --good-bg: #e8f5e9; --ref: #9aa5b1; --cur: #1f6feb; --out: #d97706;
  --s0: #1f6feb; --s1: #8250df; --s2: #bf3989; --s3: #1a7f37; --s4: #bc4c00; --s5: #57606a;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1419; --fg: #e6edf3; --muted: #9aa7b4; --line: #30363d; --panel: #161b22;
    --bad: #ff7b72; --bad-bg: #3d1414; --warn: #e3b341; --warn-bg: #3a2a06;
    --good: #56d364; --good-bg: #12301a; --ref: #6e7781; --cur: #58a6ff; --out: #f0883e;
    --s0: #58a6ff; --s1: #bc8cff; --s2: #ff7eb6; --s3: #56d364; --s4: #f0883e; --s5: #adbac7;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
header.top { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; display: flex; gap: 12px; align-items: center;
  flex-wrap: wrap; }
h2 { font-size: 19px; margin: 30px 0 8px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.meta { color: var(--muted); font-size: 14px; }
.meta span + span::before { content: " · "; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 700;
  font-size: 14px; letter-spacing: 0.04em; vertical-align: middle; }
.badge.critical { background: var(--bad); color: #fff; }
.badge.warning { background: var(--warn); color: #fff; }
.badge.ok { background: var(--good); color: #fff; }
.badge.unknown { background: var(--muted); color: #fff; }
.headline { font-size: 17px; margin: 12px 0; padding: 12px 14px; border-radius: 6px;
  background: var(--panel); border-left: 5px solid var(--muted); }
.headline.critical { background: var(--bad-bg); border-left-color: var(--bad); }
.headline.warning { background: var(--warn-bg); border-left-color: var(--warn); }
.headline.ok { background: var(--good-bg); border-left-color: var(--good); }
.headline ul { margin: 6px 0 0; padding-left: 20px; }
nav.contents { font-size: 14px; margin: 10px 0 0; }
nav.contents a { color: var(--fg); margin-right: 14px; white-space: nowrap; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 10px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 13px; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { font-weight: 600; overflow-wrap: break-word; }
td.nowrap { white-space: nowrap; }
td.detail { min-width: 18em; }
tr.failed td { background: var(--bad-bg); }
tr.failed.notify td { background: var(--warn-bg); }
.bad { color: var(--bad); font-weight: 700; }
.warn-text { color: var(--warn); font-weight: 600; }
.good { color: var(--good); }
.worse { color: var(--bad); }
.better { color: var(--good); }
.muted, .sub { color: var(--muted); }
.sub { display: block; font-size: 12px; }
.sub.worse { color: var(--bad); } .sub.better { color: var(--good); }
.sub.estimated { font-weight: 400; font-style: italic; }
.flag { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 12px;
  font-weight: 700; }
.flag.bad { background: var(--bad); color: #fff; }
.flag.skip { background: var(--panel); color: var(--muted); border: 1px solid var(--line); }
.legend { font-size: 13px; color: var(--muted); }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  vertical-align: -1px; margin: 0 4px 0 10px; }
.swatch.ref { background: var(--ref); } .swatch.cur { background: var(--cur); }
.swatch.out { background: var(--out); }
.swatch.s0 { background: var(--s0); } .swatch.s1 { background: var(--s1); }
.swatch.s2 { background: var(--s2); } .swatch.s3 { background: var(--s3); }
.swatch.s4 { background: var(--s4); } .swatch.s5 { background: var(--s5); }
.charts { display: flex; flex-wrap: wrap; gap: 10px 28px; }
figure { margin: 6px 0; }
figcaption { font-size: 13px; color: var(--muted); }
svg.chart { display: block; overflow: visible; }
svg.chart text { font-size: 11px; fill: var(--fg); }
svg.chart text.label { fill: var(--fg); }
svg.chart text.new { fill: var(--out); font-weight: 700; }
svg.chart text.rest { fill: var(--muted); font-style: italic; }
svg.chart text.value { fill: var(--muted); }
svg.chart .ref { fill: var(--ref); }
svg.chart .cur { fill: var(--cur); }
svg.chart .cur.out { fill: var(--out); }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .thr { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg.chart .line { fill: none; stroke-width: 1.6; }
svg.chart .line.strong { stroke-width: 2.8; }
svg.chart .fire { stroke: var(--bad); stroke-width: 2.5; }
svg.chart .warn { fill: var(--out); opacity: 0.45; }
svg.chart .line.s0 { stroke: var(--s0); } svg.chart .dot.s0 { fill: var(--s0); }
svg.chart .line.s1 { stroke: var(--s1); } svg.chart .dot.s1 { fill: var(--s1); }
svg.chart .line.s2 { stroke: var(--s2); } svg.chart .dot.s2 { fill: var(--s2); }
svg.chart .line.s3 { stroke: var(--s3); } svg.chart .dot.s3 { fill: var(--s3); }
svg.chart .line.s4 { stroke: var(--s4); } svg.chart .dot.s4 { fill: var(--s4); }
svg.chart .line.s5 { stroke: var(--s5); } svg.chart .dot.s5 { fill: var(--s5); }
details > summary { cursor: pointer; color: var(--muted); margin: 8px 0; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px;
  border-top: 1px solid var(--line); padding-top: 8px; }
@media print { nav.contents { display: none; } h2 { break-after: avoid; } }
"""
