// The live dashboard: one Server-Sent Events stream (/events) brings the chart history, then a
// snapshot per monitor tick and every alert transition. Every value shown comes from the
// stream; every string from it is inserted as text (never as HTML).
"use strict";

(function () {
  const token = new URLSearchParams(location.search).get("access_token");
  const withToken = (path) => token ? path + "?access_token=" + encodeURIComponent(token) : path;
  const MAX_POINTS = 300;  // 5 minutes at one tick per second
  const SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"];

  // ---- DOM helpers (text only) ----
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function badge(text) { return el("span", "badge " + String(text), text); }
  function cell(content, className) {
    const td = el("td", className);
    if (content instanceof Node) td.appendChild(content); else td.textContent = content == null ? "" : String(content);
    return td;
  }
  function fillTable(id, rows, toCells, emptyText) {
    const body = document.querySelector("#" + id + " tbody");
    const columns = document.querySelectorAll("#" + id + " thead th").length;
    const fresh = document.createDocumentFragment();
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", "empty", emptyText);
      td.colSpan = columns;
      tr.appendChild(td);
      fresh.appendChild(tr);
    }
    for (const row of rows) {
      const tr = el("tr");
      for (const c of toCells(row)) tr.appendChild(c);
      fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }
  const number = (v, digits) => (typeof v === "number" && isFinite(v)) ? v.toFixed(digits === undefined ? 1 : digits) : "–";
  const count = (v) => (typeof v === "number") ? v.toLocaleString("en") : "–";
  const clock = (iso) => { const d = new Date(iso); return isNaN(d) ? String(iso) : d.toLocaleTimeString("en-GB"); };
  function duration(seconds) {
    const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + (s % 60) + "s";
  }

  // ---- charts ----
  const points = [];  // {t, events_per_second, p50_ms, p95_ms, p99_ms, topics: {topic: rate}}
  let topicNames = [];
  let throughputChart = null, latencyChart = null;
  const PALETTE = ["#3182ce", "#d69e2e", "#38a169", "#805ad5", "#dd6b20", "#319795", "#b83280"];

  function chartWidth(id) { return Math.max(300, document.getElementById(id).clientWidth); }
  function makeChart(id, series, data) {
    const target = document.getElementById(id);
    target.replaceChildren();
    return new uPlot({ width: chartWidth(id), height: 240, series: series, scales: { x: { time: true } },
                       axes: [{}, { size: 60 }], legend: { live: false } }, data, target);
  }
  function throughputData() {
    const data = [points.map((p) => p.t), points.map((p) => p.events_per_second)];
    for (const name of topicNames) data.push(points.map((p) => (p.topics && name in p.topics) ? p.topics[name] : null));
    return data;
  }
  function latencyData() {
    return [points.map((p) => p.t), points.map((p) => p.p50_ms ?? null), points.map((p) => p.p95_ms ?? null),
            points.map((p) => p.p99_ms ?? null)];
  }
  function redraw() {
    const topics = new Set();
    for (const p of points) for (const name of Object.keys(p.topics || {})) topics.add(name);
    const names = [...topics].sort().slice(0, PALETTE.length - 1);
    if (!throughputChart || names.join("\n") !== topicNames.join("\n")) {
      topicNames = names;
      const series = [{}, { label: "all (10 s)", stroke: "#1d2430", width: 2 }];
      names.forEach((n, i) => series.push({ label: n + " (1 min)", stroke: PALETTE[i + 1], width: 1 }));
      if (throughputChart) throughputChart.destroy();
      throughputChart = makeChart("chart-throughput", series, throughputData());
    } else {
      throughputChart.setData(throughputData());
    }
    if (!latencyChart) {
      latencyChart = makeChart("chart-latency", [{}, { label: "p50", stroke: "#38a169", width: 1 },
        { label: "p95", stroke: "#d69e2e", width: 1 }, { label: "p99", stroke: "#e53e3e", width: 2 }], latencyData());
    } else {
      latencyChart.setData(latencyData());
    }
    document.getElementById("chart-throughput").dataset.points = String(points.length);
    document.getElementById("chart-latency").dataset.points = String(points.length);
  }
  function addPoint(p) {
    if (!p || typeof p.t !== "number") return;
    if (points.length && points[points.length - 1].t >= p.t) return;
    points.push(p);
    while (points.length > MAX_POINTS) points.shift();
  }
  window.addEventListener("resize", () => {
    if (throughputChart) throughputChart.setSize({ width: chartWidth("chart-throughput"), height: 240 });
    if (latencyChart) latencyChart.setSize({ width: chartWidth("chart-latency"), height: 240 });
  });

  // ---- panels ----
  function renderHealth(health) {
    const box = document.getElementById("health");
    const fresh = document.createDocumentFragment();
    const names = Object.keys(health || {}).sort();
    if (!names.length) fresh.appendChild(el("div", "empty", "no components reported yet"));
    for (const name of names) {
      const h = health[name];
      const tile = el("div", "tile " + String(h.status));
      tile.dataset.component = name;
      tile.appendChild(el("div", "label", name));
      tile.appendChild(el("div", "value", h.status));
      tile.appendChild(el("div", "message", h.message));
      fresh.appendChild(tile);
    }
    box.replaceChildren(fresh);
  }
  function renderAlerts(active) {
    const sorted = [...active].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
    fillTable("alerts", sorted, (a) => {
      const labels = Object.entries(a.labels || {}).map(([k, v]) => k + "=" + v).join(", ");
      return [cell(badge(a.severity)), cell(a.rule), cell(badge(a.state)), cell(labels), cell(number(a.value, 2)),
              cell(clock(a.since)), cell(a.summary)];
    }, "no active alerts");
    const counts = document.getElementById("alert-counts");
    const fresh = document.createDocumentFragment();
    for (const sev of SEVERITY_ORDER) {
      const n = sorted.filter((a) => a.severity === sev && a.state !== "pending").length;
      if (n) { const b = badge(sev); b.textContent = sev + " " + n; fresh.appendChild(b); }
    }
    counts.replaceChildren(fresh);
  }
  const transitions = [];
  function addTransition(t) {
    transitions.unshift(t);
    if (transitions.length > 50) transitions.pop();
    fillTable("transitions", transitions, (a) => [cell(clock(a.at)), cell(badge(a.state)), cell(badge(a.severity)),
      cell(a.rule), cell(a.series), cell(number(a.value, 2))], "no alert has fired or resolved yet");
  }
  function render(d) {
    document.getElementById("uptime").textContent = duration(d.uptime_seconds || 0);
    document.getElementById("updated").textContent = clock(d.timestamp);
    const m = d.metrics || {};
    document.getElementById("kpi-eps").textContent = number(m.events_per_second, 1);
    document.getElementById("kpi-latency").textContent = number(m.avg_latency_ms, 2) + " ms";
    document.getElementById("kpi-errors").textContent = number(m.error_rate, 2) + " %";
    document.getElementById("kpi-tasks").textContent = count(m.active_tasks);
    document.getElementById("kpi-alerts").textContent = count((d.alerts || {}).active_count);
    document.getElementById("kpi-fired").textContent = count((d.alerts || {}).total_triggered);
    renderHealth(d.component_health);
    renderAlerts(d.active_alerts || []);
    fillTable("routes", d.routes || [], (r) => [cell(r.name), cell(count(r.matched)), cell(count(r.delivered)),
      cell(count(r.filtered_out)), cell(count(r.transformation_errors)), cell(number(r.latency_p50_ns / 1000, 1)),
      cell(number(r.latency_p99_ns / 1000, 1))], "no routes");
    fillTable("processors", d.processors || [], (p) => [cell(p.name), cell(p.group), cell(count(p.consumed)),
      cell(count(p.processed)), cell(count(p.failed)), cell(count(p.dead_lettered)), cell(count(p.in_flight)),
      cell(p.lag < 0 ? "–" : count(p.lag)), cell(p.health || (p.healthy ? "ok" : "unhealthy"))], "no processors");
    fillTable("agents", d.agents || [], (a) => [cell(a.id), cell(a.role), cell(a.busy + " / " + a.capacity),
      cell(count(a.completed)), cell(count(a.failed)), cell(a.health)], "no agents in this service");
    const events = [...(d.recent_events || [])].reverse();
    fillTable("events", events, (e) => [cell(clock(e.at)), cell(e.topic), cell(e.partition + "@" + e.offset),
      cell(e.key), cell(e.type || "(undecodable)"), cell(badge(e.outcome)),
      cell(e.reason ? e.reason + " | " + e.preview : e.preview, "content")], "no events yet");
    addPoint(d.point);
    redraw();
  }

  // ---- the stream ----
  const status = document.getElementById("connection");
  function setStatus(cls, text) { status.className = "connection " + cls; status.textContent = text; }
  const source = new EventSource(withToken("events"));
  source.addEventListener("open", () => setStatus("live", "live"));
  source.addEventListener("error", () => setStatus(source.readyState === EventSource.CLOSED ? "lost" : "connecting",
    source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting"));
  source.addEventListener("history", (e) => {
    points.length = 0;
    for (const p of JSON.parse(e.data)) addPoint(p);
    redraw();
  });
  source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  source.addEventListener("alert", (e) => addTransition(JSON.parse(e.data)));
  fillTable("transitions", [], () => [], "no alert has fired or resolved yet");
})();
