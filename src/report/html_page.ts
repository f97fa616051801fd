/**
 * Renders the self-contained HTML report: one file holding its data, its script and Chart.js, with a
 * content security policy that forbids every network request, so it works from file:// offline.
 *
 * @module
 */
import { HTML_APP } from "./_html_app.ts";
import type { ChartJsSource } from "./chart_js.ts";
import { type HtmlData, SESSION_COLUMNS } from "./html_data.ts";

/** The `<canvas>` ids of the charts the page always draws (corrections and rejects fall back to text). */
export const CHART_IDS = [
  "chart-tokens",
  "chart-cost",
  "chart-models",
  "chart-projects",
  "chart-corrections",
  "chart-rejects",
] as const;

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll(
    '"',
    "&quot;",
  );
}

/** JSON safe inside a `<script>` element: no `<` can start a closing tag or a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c");
}

const STYLE = `
:root { color-scheme: light; --fg: #1d2433; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
.muted { color: var(--muted); }
#cards { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .big { font-size: 22px; font-weight: 600; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 16px 0; }
section h2 { margin: 0 0 8px; font-size: 16px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { position: relative; height: 280px; }
.chart.tall { height: 320px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
#sessions th { cursor: pointer; user-select: none; white-space: nowrap; }
#sessions th.asc::after { content: " ▲"; } #sessions th.desc::after { content: " ▼"; }
td.messages, td.prompts, td.tool_uses, td.total_tokens, td.cost_usd { text-align: right; font-variant-numeric: tabular-nums; }
.filters { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; margin-bottom: 8px; }
.pager { display: flex; gap: 8px; align-items: center; margin-top: 8px; }
@media (max-width: 800px) { .grid { grid-template-columns: 1fr; } }
`;

/**
 * Renders the page.
 *
 * @param data What the page shows (see `collectHtmlData`).
 * @param chartJs Chart.js to inline.
 * @returns The HTML document.
 */
export function renderHtmlPage(data: HtmlData, chartJs: ChartJsSource): string {
  const filters = [
    data.since || data.until ? `days ${data.since ?? "…"} to ${data.until ?? "…"}` : "",
    data.project ? `project ${data.project}` : "",
    data.machine ? `machine ${data.machine}` : "",
    data.user ? `user ${data.user}` : "",
  ].filter((x) => x !== "").join(", ");
  const subtitle =
    `Made ${data.generated_at.slice(0, 16).replace("T", " ")} UTC by ccpipe · days in ${data.timezone}` +
    ` · cost from ${data.prices}${filters ? ` · ${filters}` : ""}` +
    (data.unpriced_models.length ? ` · no price for ${data.unpriced_models.join(", ")}` : "");
  const canvas = (id: string, tall = false) =>
    `<div class="chart${tall ? " tall" : ""}"><canvas id="${id}" role="img"></canvas></div>`;
  const prompts = data.prompts
    ? `<section><h2>Typed prompts (the ${data.prompts.length} most recent, newest first)</h2>
<table><thead><tr><th>time</th><th>typed</th><th>corrected</th></tr></thead><tbody id="prompts-body"></tbody></table>
<div class="pager"><button id="prompts-prev" type="button">previous</button><button id="prompts-next" type="button">next</button><span id="prompts-page" class="muted"></span></div></section>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Claude Code usage · ccpipe</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Claude Code usage</h1>
<div class="muted">${escapeHtml(subtitle)}</div>
<div id="cards"></div>
</header>
<main>
<section><h2>Tokens and cost over time, by model</h2>
<div class="filters">
<label><input type="radio" name="period" value="daily" checked> daily</label>
<label><input type="radio" name="period" value="weekly"> weekly (ISO, Monday)</label>
<label><input type="radio" name="period" value="monthly"> monthly</label>
</div>
<div class="grid">${canvas("chart-tokens", true)}${canvas("chart-cost", true)}</div>
</section>
<div class="grid">
<section><h2>Cost by model</h2>${canvas("chart-models")}</section>
<section><h2>Cost by project</h2>${canvas("chart-projects")}</section>
</div>
${data.by_machine ? `<section><h2>Cost by machine</h2>${canvas("chart-machines")}</section>` : ""}
<section><h2>Sessions</h2>
<div class="filters">
<label>project <select id="f-project"><option value="">all</option></select></label>
<label>from <input type="date" id="f-from"></label>
<label>to <input type="date" id="f-to"></label>
<label>search <input type="search" id="f-text" placeholder="title or id"></label>
</div>
<table id="sessions"><thead><tr></tr></thead><tbody></tbody></table>
<div class="pager"><button id="prev" type="button">previous</button><button id="next" type="button">next</button><span id="page" class="muted"></span></div>
</section>
<div class="grid">
<section><h2>Prompt corrections</h2>${canvas("chart-corrections")}</section>
<section><h2>Rejected lines per file (${data.rejects_total} in all)</h2>${canvas("chart-rejects")}</section>
</div>
<section><h2>Last run: reconciliation</h2><div id="last-run"></div></section>
${prompts}
<p class="muted">Charts by Chart.js ${
    escapeHtml(chartJs.version)
  } (MIT), inlined. This file makes no network request.</p>
</main>
<script type="application/json" id="ccpipe-data">${
    scriptJson({ ...data, session_columns: SESSION_COLUMNS })
  }</script>
<script>${chartJs.code}</script>
<script>${HTML_APP}</script>
</body>
</html>
`;
}
