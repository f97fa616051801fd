// The page's own script, as text (it runs in the browser, not under Deno): it reads the embedded data,
// draws the charts with Chart.js and runs the session table (sort, filter, pages). Plain ES2020 with no
// template literals, so it can live in this string.
export const HTML_APP = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ccpipe-data").textContent);
  var PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var colorOf = function (i) { return PALETTE[i % PALETTE.length]; };
  var int = function (n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); };
  var usd = function (n) {
    if (n === null || n === undefined) return "n/a";
    return n < 1 ? "$" + n.toFixed(4) : "$" + n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  };
  var el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  var short = function (model) { return model.replace(/^claude-/, ""); };
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = "system-ui, sans-serif";
  var charts = {};
  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), config);
    return charts[id];
  }

  // Totals
  var sessionsShown = data.sessions.length + data.sessions_omitted;
  [["API responses", int(data.totals.responses)], ["tokens", int(data.totals.total_tokens)],
    ["cost", usd(data.totals.cost_usd)], ["sessions", int(sessionsShown)]].forEach(function (card) {
    var box = el("div", { "class": "card" });
    box.appendChild(el("div", { "class": "big" }, card[1]));
    box.appendChild(el("div", null, card[0]));
    document.getElementById("cards").appendChild(box);
  });

  // Over time, stacked by model
  function drawPeriods(kind) {
    var s = data.periods[kind];
    var stacked = function (values, label, money) {
      return {
        type: "bar",
        data: {
          labels: s.keys,
          datasets: data.models.map(function (m, i) {
            return { label: short(m), data: values[m], backgroundColor: colorOf(i) };
          }),
        },
        options: {
          scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: label } } },
          plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + (money ? usd(c.raw) : int(c.raw)); } } } },
        },
      };
    };
    chart("chart-tokens", stacked(s.tokens, "tokens", false));
    chart("chart-cost", stacked(s.cost, "USD", true));
  }
  document.querySelectorAll("input[name=period]").forEach(function (radio) {
    radio.addEventListener("change", function () { drawPeriods(radio.value); });
  });
  drawPeriods("daily");

  chart("chart-models", {
    type: "doughnut",
    data: {
      labels: data.by_model.map(function (r) { return short(r.model); }),
      datasets: [{ data: data.by_model.map(function (r) { return r.cost_usd || 0; }), backgroundColor: data.by_model.map(function (r) { return colorOf(data.models.indexOf(r.model)); }) }],
    },
    options: { plugins: { tooltip: { callbacks: { label: function (c) { return c.label + ": " + usd(c.raw); } } } } },
  });
  chart("chart-projects", {
    type: "bar",
    data: {
      labels: data.by_project.map(function (r) { return r.project.split("/").pop(); }),
      datasets: [{ label: "cost (USD)", data: data.by_project.map(function (r) { return r.cost_usd || 0; }), backgroundColor: "#4e79a7" }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return usd(c.raw); } } } } },
  });
  if (data.by_machine) {
    chart("chart-machines", {
      type: "bar",
      data: {
        labels: data.by_machine.map(function (r) { return r.machine_id || "(unknown)"; }),
        datasets: [{ label: "cost (USD)", data: data.by_machine.map(function (r) { return r.cost_usd || 0; }), backgroundColor: "#f28e2b" }],
      },
      options: { indexAxis: "y", plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return usd(c.raw); } } } } },
    });
  }
  if (data.corrections.length) {
    chart("chart-corrections", {
      type: "bar",
      data: {
        labels: data.corrections.map(function (r) { return r.status; }),
        datasets: [{ label: "prompts", data: data.corrections.map(function (r) { return r.count; }), backgroundColor: "#59a14f" }],
      },
      options: { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
    });
  } else {
    document.getElementById("chart-corrections").replaceWith(el("p", null, "No typed prompts."));
  }
  if (data.rejects.length) {
    chart("chart-rejects", {
      type: "bar",
      data: {
        labels: data.rejects.map(function (r) {
          var name = r.file.split("/").pop();
          return name.length > 24 ? name.slice(0, 12) + "…" + name.slice(-8) : name;
        }),
        datasets: [{ label: "rejected lines", data: data.rejects.map(function (r) { return r.count; }), backgroundColor: "#e15759" }],
      },
      options: { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
    });
  } else {
    document.getElementById("chart-rejects").replaceWith(el("p", null, "No rejected lines."));
  }

  // Last run
  var run = data.last_run;
  var runBox = document.getElementById("last-run");
  if (!run) runBox.appendChild(el("p", null, "No run recorded."));
  else {
    var rec = run.reconciliation;
    var rows = [["run", run.run_id + " (" + run.status + ", " + run.started_at + ")"],
      ["files", int(run.files) + " files, " + int(run.bytes_read) + " bytes read"]];
    if (rec) {
      var l = rec.lines, r = rec.records, p = rec.prompts;
      rows.push(["lines", int(l.read) + " read = " + int(l.records) + " records + " + int(l.rejects) + " rejects + " + int(l.blank) + " blank − " + int(l.glued) + " glued" + (l.balanced ? "  ✓" : "  MISMATCH")]);
      if (r.ran) rows.push(["records", int(r.parsed) + " parsed = " + int(r.unique) + " unique + " + int(r.duplicates) + " duplicates + " + int(r.withoutUuid) + " without uuid + " + int(r.invalid) + " invalid" + (r.balanced ? "  ✓" : "  MISMATCH")]);
      rows.push(["prompts", int(p.total) + " = " + int(p.sent) + " sent + " + int(p.cacheHits) + " cached + " + int(p.skipped) + " skipped + " + int(p.dedupedInRun) + " repeated + " + int(p.pending) + " pending" + (p.balanced ? "  ✓" : "  MISMATCH")]);
    }
    rows.push(["usage", int(run.usage_rows) + " API responses"], ["took", (Number(run.duration_ms) / 1000).toFixed(2) + " s"]);
    var table = el("table");
    rows.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      table.appendChild(tr);
    });
    runBox.appendChild(table);
  }

  // Sessions: sort, filter, pages
  var COLS = data.session_columns;
  var col = function (name) { return COLS.indexOf(name); };
  var state = { sort: col("started"), desc: true, page: 0, size: 25 };
  var projectSelect = document.getElementById("f-project");
  Array.from(new Set(data.sessions.map(function (s) { return s[col("project")] || ""; }))).sort().forEach(function (p) {
    projectSelect.appendChild(el("option", { value: p }, p || "(none)"));
  });
  var shown = [
    ["started", "started", function (v) { return v || "–"; }],
    ["project", "project", function (v) { return v ? v.split("/").pop() : "–"; }],
    ["title", "title", function (v) { return v || ""; }],
    ["messages", "messages", int], ["prompts", "prompts", int], ["tool_uses", "tools", int],
    ["total_tokens", "tokens", int], ["cost_usd", "cost", usd],
  ];
  var head = document.querySelector("#sessions thead tr");
  shown.forEach(function (c) {
    var th = el("th", { "data-col": c[0] }, c[1]);
    th.addEventListener("click", function () {
      var i = col(c[0]);
      state.desc = state.sort === i ? !state.desc : true;
      state.sort = i;
      state.page = 0;
      renderSessions();
    });
    head.appendChild(th);
  });
  ["f-project", "f-from", "f-to", "f-text"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", function () { state.page = 0; renderSessions(); });
  });
  document.getElementById("prev").addEventListener("click", function () { state.page = Math.max(0, state.page - 1); renderSessions(); });
  document.getElementById("next").addEventListener("click", function () { state.page++; renderSessions(); });
  function renderSessions() {
    var project = projectSelect.value;
    var from = document.getElementById("f-from").value;
    var to = document.getElementById("f-to").value;
    var text = document.getElementById("f-text").value.toLowerCase();
    var rows = data.sessions.filter(function (s) {
      var day = (s[col("started")] || "").slice(0, 10);
      return (!project || (s[col("project")] || "") === project) && (!from || day >= from) && (!to || day <= to) &&
        (!text || ((s[col("title")] || "") + " " + s[col("session_id")]).toLowerCase().indexOf(text) >= 0);
    });
    rows.sort(function (a, b) {
      var x = a[state.sort], y = b[state.sort];
      var order = x === y ? 0 : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return state.desc ? -order : order;
    });
    var pages = Math.max(1, Math.ceil(rows.length / state.size));
    state.page = Math.min(state.page, pages - 1);
    var body = document.querySelector("#sessions tbody");
    body.textContent = "";
    rows.slice(state.page * state.size, (state.page + 1) * state.size).forEach(function (s) {
      var tr = el("tr", { title: s[col("session_id")] });
      shown.forEach(function (c) { tr.appendChild(el("td", { "class": c[0] }, c[2](s[col(c[0])]))); });
      body.appendChild(tr);
    });
    document.querySelectorAll("#sessions th").forEach(function (th) {
      th.className = col(th.getAttribute("data-col")) === state.sort ? (state.desc ? "desc" : "asc") : "";
    });
    document.getElementById("page").textContent = "page " + (state.page + 1) + " of " + pages + " · " + rows.length + " sessions" +
      (data.sessions_omitted ? " (" + data.sessions_omitted + " older ones left out)" : "");
  }
  renderSessions();

  // Prompt texts: only present with --include-text; 50 a page
  if (data.prompts) {
    var promptPage = 0;
    var renderPrompts = function () {
      var pages = Math.max(1, Math.ceil(data.prompts.length / 50));
      promptPage = Math.max(0, Math.min(promptPage, pages - 1));
      var list = document.getElementById("prompts-body");
      list.textContent = "";
      data.prompts.slice(promptPage * 50, promptPage * 50 + 50).forEach(function (p) {
        var tr = el("tr");
        tr.appendChild(el("td", null, p.timestamp ? p.timestamp.slice(0, 16).replace("T", " ") : "–"));
        tr.appendChild(el("td", null, p.text));
        tr.appendChild(el("td", null, p.corrected_text === null || p.corrected_text === p.text ? "" : p.corrected_text));
        list.appendChild(tr);
      });
      document.getElementById("prompts-page").textContent = "page " + (promptPage + 1) + " of " + pages;
    };
    document.getElementById("prompts-prev").addEventListener("click", function () { promptPage--; renderPrompts(); });
    document.getElementById("prompts-next").addEventListener("click", function () { promptPage++; renderPrompts(); });
    renderPrompts();
  }
  document.documentElement.setAttribute("data-ready", "true");
})();
`;
