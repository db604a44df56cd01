// The field-matrix explorer of helpers.figures.field_explorer: plain JavaScript, no library, no request.
// window.mechFieldExplorer.mount(id) draws the explorer whose JSON data sits in <script id="{id}-data">;
// clusters(matrix, threshold) is the papers' greedy rule (helpers.method.fields.greedy_clusters), and
// layerStats(matrices, threshold) the layer's n, N_c, C_s and SNR_E (DESIGN step 8; universal Eq. 4).
(function () {
  if (window.mechFieldExplorer) return;

  // The clipped matrix's clusters: walk the diagonal in label order; the first unassigned label i with
  // B[i][i] = 1 opens a cluster, each later unassigned j with B[j][j] = 1 joins when B[j][m] = B[m][j] = 1
  // for every member m; repeat until every diagonal one is in a cluster. Clusters sorted, in opening order.
  function clusters(M, threshold) {
    var n = M.length, unassigned = [], out = [];
    for (var i = 0; i < n; i++) if (M[i][i] >= threshold) unassigned.push(i);
    while (unassigned.length) {
      var members = [unassigned[0]], rest = [];
      for (var k = 1; k < unassigned.length; k++) {
        var j = unassigned[k], ok = true;
        for (var q = 0; q < members.length && ok; q++) {
          var m = members[q];
          ok = M[j][m] >= threshold && M[m][j] >= threshold;
        }
        (ok ? members : rest).push(j);
      }
      out.push(members.sort(function (a, b) { return a - b; }));
      unassigned = rest;
    }
    return out;
  }

  // Each element's kind: 2 inside a cluster block, 1 noise (above threshold, outside every block), 0 below.
  function kinds(M, threshold, cs) {
    var n = M.length, id = new Array(n).fill(-1), K = [];
    cs.forEach(function (c, k) { c.forEach(function (i) { id[i] = k; }); });
    for (var i = 0; i < n; i++) {
      K.push([]);
      for (var j = 0; j < n; j++) {
        K[i].push(id[i] >= 0 && id[i] === id[j] ? 2 : M[i][j] >= threshold ? 1 : 0);
      }
    }
    return K;
  }

  function noise(K) {
    var s = 0;
    K.forEach(function (row) { row.forEach(function (k) { if (k === 1) s++; }); });
    return s;
  }

  // n: mean noise per filter; N_c: mean clusters per filter (both over every filter); C_s: mean cluster
  // size over every cluster; SNR_E = C_s N_c N_l / n.
  function layerStats(matrices, threshold) {
    var noiseSum = 0, clusterCount = 0, sizeSum = 0, N_l = matrices.length ? matrices[0].length : 0;
    matrices.forEach(function (M) {
      var cs = clusters(M, threshold);
      noiseSum += noise(kinds(M, threshold, cs));
      clusterCount += cs.length;
      cs.forEach(function (c) { sizeSum += c.length; });
    });
    var N_f = matrices.length, n = noiseSum / N_f, N_c = clusterCount / N_f;
    var C_s = clusterCount ? sizeSum / clusterCount : NaN;
    return { n: n, N_c: N_c, C_s: C_s, SNR_E: n > 0 ? (C_s * N_c * N_l) / n : NaN };
  }

  function fmt(v) { return v === null || v === undefined || isNaN(v) ? "–" : Number(v).toFixed(2); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function mount(id) {
    var root = document.getElementById(id);
    if (!root || root.dataset.mounted) return;
    root.dataset.mounted = "1";
    var data = JSON.parse(document.getElementById(id + "-data").textContent), labels = data.labels;
    var state = { tap: 0, filter: 0, threshold: data.threshold };
    var controls = el("div", { style: "display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin:0.5em 0" });
    var layer = el("select", { id: id + "-layer", "aria-label": "layer" });
    data.taps.forEach(function (t, k) { layer.appendChild(el("option", { value: String(k) }, "layer " + t.tap)); });
    var filter = el("input", { id: id + "-filter", type: "number", min: "0", step: "1", value: "0", style: "width:5em", "aria-label": "filter" });
    var th = el("input", { id: id + "-threshold", type: "range", min: "0.05", max: "0.95", step: "0.05", value: String(data.threshold), "aria-label": "threshold" });
    var thOut = el("output", { for: id + "-threshold" }, fmt(data.threshold));
    [[el("label", { for: id + "-layer" }, "Layer "), layer], [el("label", { for: id + "-filter" }, "Filter "), filter],
     [el("label", { for: id + "-threshold" }, "Threshold "), th, thOut]].forEach(function (g) {
      var span = el("span"); g.forEach(function (x) { span.appendChild(x); }); controls.appendChild(span);
    });
    var table = el("table", { class: "mech-field-matrix", style: "border-collapse:collapse;font-size:0.75em" });
    var about = el("p", { id: id + "-filter-text", "aria-live": "polite", style: "font-size:0.9em" });
    var stats = el("table", { id: id + "-stats", style: "font-size:0.85em" });
    root.appendChild(controls); root.appendChild(table); root.appendChild(about); root.appendChild(stats);

    function draw() {
      var t = data.taps[state.tap], M = t.matrices[state.filter], cs = clusters(M, state.threshold);
      var K = kinds(M, state.threshold, cs), n = M.length;
      filter.max = String(t.matrices.length - 1);
      table.textContent = "";
      var head = el("tr"); head.appendChild(el("th", {}, "input \\ output"));
      for (var j = 0; j < n; j++) head.appendChild(el("th", { scope: "col" }, labels[j]));
      table.appendChild(head);
      for (var i = 0; i < n; i++) {
        var tr = el("tr"); tr.appendChild(el("th", { scope: "row" }, labels[i]));
        for (var j2 = 0; j2 < n; j2++) {
          var v = M[i][j2], g = Math.round(255 * Math.max(0, Math.min(1, 0.15 + 0.6 * v)));
          var bg = K[i][j2] === 2 ? "#ffffff" : K[i][j2] === 1 ? "#f2c200" : "rgb(" + [31, 31, 58].map(function (c) { return Math.round(c + (g - c) * 0.35); }).join(",") + ")";
          var td = el("td", { "data-kind": String(K[i][j2]), style: "width:2.6em;text-align:center;border:1px solid #888;background:" + bg + ";color:" + (K[i][j2] ? "#000" : "#fff") }, v.toFixed(2));
          tr.appendChild(td);
        }
        table.appendChild(tr);
      }
      about.textContent = "Layer " + t.tap + ", filter " + state.filter + " at threshold " + fmt(state.threshold) + ": " +
        (cs.length ? cs.length + " cluster(s): " + cs.map(function (c) { return "(" + c.map(function (i) { return labels[i]; }).join(", ") + ")"; }).join(" ") : "no cluster") +
        "; noise " + noise(K) + " (yellow). White: cluster blocks.";
      var s = layerStats(t.matrices, state.threshold);
      stats.textContent = "";
      var hr = el("tr"); ["layer " + t.tap + " (" + t.matrices.length + " filters)", "n", "N_c", "C_s", "SNR_E"].forEach(function (h) { hr.appendChild(el("th", {}, h)); });
      stats.appendChild(hr);
      var mine = el("tr"); mine.appendChild(el("td", {}, "this network, threshold " + fmt(state.threshold)));
      ["n", "N_c", "C_s", "SNR_E"].forEach(function (k) { mine.appendChild(el("td", { "data-stat": k }, fmt(s[k]))); });
      stats.appendChild(mine);
      var p = t.paper, snr = p.n && p.N_c && p.C_s ? (p.C_s * p.N_c * n) / p.n : null;
      var ref = el("tr"); ref.appendChild(el("td", {}, "the paper (threshold 0.3)"));
      [p.n, p.N_c, p.C_s, snr].forEach(function (v) { ref.appendChild(el("td", {}, fmt(v))); });
      stats.appendChild(ref);
    }
    layer.addEventListener("change", function () { state.tap = +layer.value; state.filter = 0; filter.value = "0"; draw(); });
    filter.addEventListener("input", function () {
      var f = parseInt(filter.value, 10), max = data.taps[state.tap].matrices.length - 1;
      if (!isNaN(f)) { state.filter = Math.max(0, Math.min(max, f)); draw(); }
    });
    th.addEventListener("input", function () { state.threshold = +th.value; thOut.textContent = fmt(state.threshold); draw(); });
    draw();
  }

  window.mechFieldExplorer = { mount: mount, clusters: clusters, layerStats: layerStats };
})();
