// ashasim dashboard: draws the views the server (or the report) computed; computes nothing.
// Live pages poll api/runs and redraw with Plotly.react, which keeps the user's zoom
// (uirevision); a static report draws its embedded data once. Text from the run directory is
// only ever set with textContent, never parsed as HTML.
"use strict";

const PLOT_CONFIG = { responsive: true, displaylogo: false };
const MAX_LANE_TICKS = 32;
const MAX_MARKERS = 3000;
const panels = new Map(); // run name -> its panel's elements

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function panelFor(run, container) {
  if (panels.has(run.name)) return panels.get(run.name);
  const root = element("section", { class: "run", "data-run": run.name });
  root.append(element("h2", { title: run.path }, run.name));
  const parts = { root, notice: element("div"), summary: element("div", { class: "summary" }) };
  root.append(parts.notice, parts.summary);
  const sections = [
    ["gantt", "Workers"], ["idle", "Idle fraction over time"], ["best", "Best so far"],
    ["curvesTime", "Learning curves against time"],
    ["curvesResource", "Learning curves against resource"],
  ];
  for (const [key, title] of sections) {
    parts[key] = element("div", { class: "plot " + key });
    root.append(element("h3", {}, title), parts[key]);
  }
  parts.rungs = element("table", { class: "rungs" });
  parts.failures = element("div", { class: "failures" });
  root.append(element("h3", {}, "Rungs"), parts.rungs);
  root.append(element("h3", {}, "Failures and retries"), parts.failures);
  container.append(root);
  panels.set(run.name, parts);
  return parts;
}

function number(value, digits) {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? Number(value.toPrecision(digits || 4)).toString() : String(value);
}

function drawSummary(parts, run) {
  const s = run.summary;
  const items = [
    ["scheduler", s.scheduler], ["workers", s.n_workers], ["trials", s.trials],
    ["jobs", s.jobs], ["running", s.running_jobs], ["time", number(s.makespan) + " s"],
    ["idle", s.idle_fraction === null ? "–" : (100 * s.idle_fraction).toFixed(1) + "%"],
    ["best " + s.metric, number(s.best_metric)], ["best trial", number(s.best_trial)],
    ["failed", s.failed_jobs], ["retried", s.retried_jobs], ["events", s.events],
  ];
  parts.summary.replaceChildren(...items.map(([key, value]) => {
    const item = element("span", {}, key + " ");
    item.append(element("b", {}, String(value)));
    return item;
  }));
  parts.root.dataset.events = String(s.events);
  parts.root.dataset.jobs = String(s.jobs);
}

function ganttFigure(run, xMax) {
  const g = run.gantt, n = g.n_workers, b = g.bars;
  const traces = [];
  if (g.aggregate) {
    const a = g.aggregate;
    traces.push({
      type: "heatmap", z: a.busy, customdata: a.jobs, y: [...Array(n).keys()],
      x: a.busy.length ? a.busy[0].map((_, i) => a.t0 + i * a.dt) : [],
      zmin: 0, zmax: 1, showscale: false, colorscale: [[0, "#ffffff"], [1, "#6b6b6b"]],
      hovertemplate: "worker %{y}, t≈%{x:.4g} s<br>busy %{z:.0%}, %{customdata} jobs started" +
        "<extra>earlier jobs, aggregated</extra>",
    });
  }
  traces.push({
    type: "bar", orientation: "h", y: b.worker, base: b.start,
    x: b.start.map((start, i) => b.end[i] - start), width: 0.8,
    marker: { color: b.color, line: { color: b.edge, width: 1.5 } },
    text: b.label, textposition: "inside", insidetextanchor: "middle", textangle: 0,
    hovertext: b.hover, hoverinfo: "text", name: "jobs",
  });
  const step = Math.max(1, Math.ceil(n / MAX_LANE_TICKS));
  const ticks = [...Array(n).keys()].filter((w) => w % step === 0);
  const shapes = g.boundaries.map((t) => ({
    type: "line", x0: t, x1: t, yref: "paper", y0: 0, y1: 1,
    line: { dash: "dash", width: g.boundaries.length > 40 ? 0.5 : 1, color: "#404040" },
  }));
  const layout = {
    barmode: "overlay", showlegend: false, uirevision: run.name, shapes,
    height: Math.min(900, 90 + 26 * n), margin: { l: 80, r: 10, t: 10, b: 40 },
    uniformtext: { mode: "hide", minsize: 8 },
    xaxis: { title: { text: run.time_label }, range: [0, xMax], zeroline: false },
    yaxis: { tickvals: ticks, ticktext: ticks.map((w) => "Worker-" + w),
             range: [n - 0.5, -0.5], zeroline: false },
  };
  return [traces, layout];
}

function lineLayout(run, xTitle, yTitle, xMax, extra) {
  return Object.assign({
    height: 220, margin: { l: 60, r: 10, t: 10, b: 40 }, showlegend: false,
    uirevision: run.name,
    xaxis: { title: { text: xTitle }, range: xMax === null ? undefined : [0, xMax] },
    yaxis: { title: { text: yTitle } },
  }, extra || {});
}

function drawPlots(parts, run, xMax) {
  const [gTraces, gLayout] = ganttFigure(run, xMax);
  Plotly.react(parts.gantt, gTraces, gLayout, PLOT_CONFIG);
  parts.gantt.dataset.lanes = String(run.gantt.n_workers);
  Plotly.react(parts.idle, [{
    type: "scatter", mode: "lines", x: run.idle.t, y: run.idle.idle, fill: "tozeroy",
    line: { color: "#888" }, hovertemplate: "t≈%{x:.4g} s: %{y:.0%} idle<extra></extra>",
  }], lineLayout(run, run.time_label, "idle", xMax,
    { yaxis: { range: [0, 1], tickformat: ".0%", title: { text: "idle" } } }), PLOT_CONFIG);
  Plotly.react(parts.best, [{
    type: "scatter", mode: "lines", line: { shape: "hv", color: "#1f77b4" },
    x: run.best.t, y: run.best.metric, hovertemplate: "%{x:.4g} s: %{y:.4g}<extra></extra>",
  }], lineLayout(run, run.time_label, "best " + run.best.name, xMax), PLOT_CONFIG);
  const c = run.curves;
  // Thousands of SVG markers are what makes a page slow: past MAX_MARKERS points, lines only.
  const markers = c.metric.length <= MAX_MARKERS;
  const curve = (x) => ({
    type: "scatter", mode: markers ? "lines+markers" : "lines", x, y: c.metric,
    text: c.hover, hoverinfo: "text",
    line: { color: "rgba(120,120,120,0.35)", width: 1 }, connectgaps: false,
    marker: { color: c.color, size: 4 },
  });
  const shown = c.trials_shown < c.trials ? ` (${c.trials_shown} of ${c.trials} trials)` : "";
  Plotly.react(parts.curvesTime, [curve(c.t)],
    lineLayout(run, run.time_label, c.metric_name + shown, xMax, { height: 260 }), PLOT_CONFIG);
  Plotly.react(parts.curvesResource, [curve(c.resource)],
    lineLayout(run, c.resource_name, c.metric_name + shown, null, { height: 260 }), PLOT_CONFIG);
}

function drawTable(table, header, rows) {
  const head = element("tr");
  for (const title of header) head.append(element("th", {}, title));
  table.replaceChildren(head, ...rows.map((cells) => {
    const row = element("tr");
    for (const cell of cells) {
      row.append(element("td", typeof cell === "string" ? { class: "text" } : {}, number(cell)));
    }
    return row;
  }));
}

function drawTables(parts, run) {
  drawTable(parts.rungs, ["rung", "level", "trials", "went on", "best", "top-1/η cut-off"],
    run.rungs.map((r) => [r.rung, r.level, r.trials, r.went_on, r.best, r.cutoff]));
  const f = run.failures;
  const text = element("div", {}, `${f.failed} failed, ${f.retried} retried`);
  const table = element("table");
  drawTable(table, ["t (s)", "worker", "trial", "resource", "what", "error"],
    f.rows.map((r) => [r.t, r.worker, r.trial, r.resource, r.reason, r.error]));
  parts.failures.replaceChildren(text, ...(f.rows.length ? [table] : []));
}

function sharedTimeRange(runs) {
  // Runs on the same clock share one time axis: sync SH and ASHA side by side compare at a glance.
  const spans = runs.filter((r) => r.summary).map((r) => r.summary.makespan || 0);
  return Math.max(1e-9, ...spans);
}

function render(data) {
  const container = document.getElementById("runs");
  container.style.gridTemplateColumns = `repeat(${Math.min(3, data.runs.length)}, minmax(0, 1fr))`;
  const xMax = sharedTimeRange(data.runs);
  for (const run of data.runs) {
    const parts = panelFor(run, container);
    const notice = run.error ? ["notice error", "stopped following: " + run.error]
      : run.waiting ? ["notice", "waiting for the run's journal to appear…"] : null;
    parts.notice.className = notice ? notice[0] : "";
    parts.notice.textContent = notice ? notice[1] : "";
    if (!run.summary) continue;
    drawSummary(parts, run);
    drawPlots(parts, run, xMax);
    drawTables(parts, run);
  }
}

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

async function follow() {
  let versions = null;
  for (;;) {
    try {
      const query = versions === null ? "" : "?versions=" + versions;
      const response = await fetch("api/runs" + query, { cache: "no-store" });
      const data = await response.json();
      if (!data.unchanged) {
        render(data);
        versions = data.runs.map((r) => r.version).join(",");
      }
      setStatus("live · checked " + new Date().toLocaleTimeString());
    } catch (error) {
      setStatus("live · server not answering (" + error.message + "), retrying");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const embedded = JSON.parse(document.getElementById("ashasim-data").textContent);
if (embedded.live) {
  follow();
} else {
  render(embedded);
  setStatus("report of " + embedded.runs.length + " run(s), written " + embedded.written);
}
