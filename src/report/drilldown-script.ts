// The page's per-sample drill-down (data: drilldown-data.ts), as ES2017 text that page-script.ts places
// inside its main function, where it uses that function's state, views, setHover/linkHover, formatTooltip
// and vegaOptions. One section after "Input sensitivity": pick the worst, median or best sample, then see its
// input with ∂ℓ/∂x_t, its h_t per unit, its gates per unit and, for sequence outputs, its connectivity, for the
// selected run and layer. The views are Vega-Lite; the cells are drawn to canvas. Switching sample only swaps
// the views' rows (a Vega changeset); a new run or layer, whose shapes differ, embeds them again.
//
// Input: up to 3 features are drawn as lines (x_t above, |∂ℓ/∂x_t| below on a log axis): the values and the
// shape of the sequence (the adding problem's markers are two spikes) read directly, which a 2-row heatmap would
// hide; more features are two step × feature heatmaps.

export const DRILL_JS = String.raw`
  // shown: the views on screen are current; ready: all are.
  var drill = { sample: 0, run: null, shape: '', tau: null, layer: null, shown: Promise.resolve(), ready: Promise.resolve() };
  var DRILL_VIEWS = ['input', 'state', 'gates', 'conn', 'row'];
  var FEATURE_COLORS = ['#0072B2', '#D55E00', '#009E73'];

  function drillSection() {
    var sec = document.createElement('section');
    sec.className = 'chart drilldown';
    sec.id = 'chart-drilldown';
    sec.innerHTML = '<div class="drill" id="drill-body" style="min-width: 0; overflow-x: auto">' +
      '<div class="drill-pick" id="drill-pick" role="radiogroup" aria-label="Sample"></div>' +
      '<p class="left-out" id="drill-reason" hidden></p>' +
      DRILL_VIEWS.map(function (v) {
        return '<p class="left-out" id="drill-note-' + v + '" hidden></p><div class="drill-view" id="drill-' + v + '"></div>';
      }).join('') + '</div>' +
      '<aside class="howto"><h3>One sample, step by step</h3>' +
      '<p>The worst, median and best analysed sample by its own loss \u2113. For the chosen one: its input x_t with ' +
      'how much the loss changes with it (|\u2202\u2113/\u2202x_t|), the layer\u2019s state h_t per unit and its ' +
      'gates per unit. A gradient that is large only at the right-hand steps means the model answered from the ' +
      'last few inputs.</p><p>For sequence outputs, the connectivity map shows for each output step \u03c4 (row) ' +
      'how much each input step t moves its loss; hover a row to plot it below.</p>' +
      '<p class="follows">Follows the run and layer selectors.</p></aside>';
    var after = document.getElementById('chart-dx') || Array.prototype.slice.call(document.querySelectorAll('section.chart')).pop();
    if (after) after.parentNode.insertBefore(sec, after.nextSibling);
    else document.querySelector('main').appendChild(sec);
    return sec;
  }

  // Cell edges around each shown step (midpoints to its neighbours), so cells tile the axis when steps are
  // evenly spaced samples of a longer sequence.
  function edges(steps) {
    return steps.map(function (t, i) {
      return [i === 0 ? t - 0.5 : (steps[i - 1] + t) / 2, i === steps.length - 1 ? t + 0.5 : (t + steps[i + 1]) / 2];
    });
  }
  function absMax(arr) {
    var m = 0;
    for (var i = 0; i < arr.length; i++) if (arr[i] !== null && Math.abs(arr[i]) > m) m = Math.abs(arr[i]);
    return m || 1;
  }
  function sigmoidLike(act) { return /sigmoid/.test(act || ''); }

  var XT = 'step t (input position)';
  var X_STEP = { field: 't', type: 'quantitative', title: XT, scale: { nice: false } };
  var X_CELL = { field: 'a', type: 'quantitative', title: XT, scale: { nice: false, zero: false } };
  var ZOOM = { name: 'zoom', select: { type: 'interval', encodings: ['x'], zoom: 'wheel![event.shiftKey]' }, bind: 'scales' };
  var HOVER_RULE = {
    data: { name: 'steps' },
    transform: [{ filter: 'hoverT !== null && datum.t === hoverT' }],
    mark: { type: 'rule', color: '#666666', strokeWidth: 1 },
    encoding: { x: { field: 't', type: 'quantitative', title: XT } },
  };
  // Colour legends right of the cells, or under them on a narrow screen (where the cells take the width).
  function legendAt(extra) {
    return Object.assign(drill.narrow ? { orient: 'bottom', direction: 'horizontal', gradientLength: 140 }
      : { orient: 'right', direction: 'vertical', gradientLength: 80 }, extra);
  }
  function top(title, body) {
    return Object.assign({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      config: data.drillConfig,
      params: [{ name: 'hoverT', value: null }],
      title: { text: title, anchor: 'start', fontSize: 13, limit: drill.avail - 90 },
      autosize: { type: 'pad' },
    }, body);
  }
  function inputSpec(s, W) {
    var F = s.features, hasDx = s.dx.length > 0;
    if (F <= 3) {
      var color = { field: 'f', type: 'nominal', title: null, scale: { range: FEATURE_COLORS },
        legend: { orient: 'top', direction: 'horizontal' } };
      var tip = [{ field: 't', title: 'step' }];
      for (var f = 0; f < F; f++) {
        tip.push({ field: 'x' + f, title: 'x (feature ' + f + ')' });
        if (hasDx) tip.push({ field: 'd' + f, title: '\u2202\u2113/\u2202x (feature ' + f + ')' });
      }
      var target = { data: { name: 'bystep' }, mark: { type: 'rect', opacity: 0 },
        encoding: { x: { field: 'a', type: 'quantitative', title: XT }, x2: { field: 'b' }, tooltip: tip } };
      var panels = [{
        width: W, height: 110,
        layer: [
          { data: { name: 'xl' }, params: [ZOOM], mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step' },
            encoding: { x: X_STEP, y: { field: 'x', type: 'quantitative', title: 'x_t' }, color: color } },
          HOVER_RULE, target,
        ],
      }];
      if (hasDx) panels.push({
        width: W, height: 110,
        layer: [
          { data: { name: 'xl' }, transform: [{ filter: 'isValid(datum.adx) && datum.adx > 0' }],
            mark: { type: 'line', strokeWidth: 1.5, point: { size: 10 } },
            encoding: { x: X_STEP, y: { field: 'adx', type: 'quantitative', scale: { type: 'log' },
              axis: { format: '.0e', tickCount: 4 }, title: '|\u2202\u2113/\u2202x_t|' }, color: color } },
          HOVER_RULE, target,
        ],
      });
      return top('Its input x_t and |\u2202\u2113/\u2202x_t| per feature', { vconcat: panels, resolve: { scale: { x: 'shared' } } });
    }
    var h = Math.max(3, Math.min(12, Math.floor(180 / F)));
    var panels2 = [gridPanel('x', drill.grids.x, W, h, true)];
    if (hasDx) panels2.push(gridPanel('dx', drill.grids.dx, W, h, false));
    return top('Its input x_t and |\u2202\u2113/\u2202x_t| per step and feature',
      { vconcat: panels2, resolve: { scale: { x: 'shared', color: 'independent' } } });
  }

  function stateSpec(l, W) {
    return top('Its state h_t per unit (' + l.units.length + ' shown)', gridPanel('h', drill.grids.h, W, 9, true));
  }

  function gatesSpec(l, W) {
    var panels = l.gates.map(function (g, gi) {
      var p = gridPanel('g' + gi, drill.grids['g' + gi], W, 6, gi === 0);
      p.title = { text: 'gate ' + g.gate, fontSize: 11, fontWeight: 'normal', anchor: 'start' };
      return p;
    });
    return top('Its gate activations per unit', { vconcat: panels, resolve: { scale: { x: 'shared', color: 'independent' } } });
  }

  function connSpec(l, W) {
    var map = gridPanel('cm', drill.grids.cm, W, 4, true);
    map.height = 160;
    // One invisible target per output step (row): hovering it plots that row below.
    map.layer.splice(3, 1, { data: { name: 'cm_rows' }, mark: { type: 'rect', opacity: 0 },
      encoding: { y: { field: 'y0', type: 'quantitative' }, y2: { field: 'y1' },
        tooltip: [{ field: 'tau', title: 'output step \u03c4' }] } },
    { data: { name: 'taurow' }, mark: { type: 'rule', color: '#009E73', strokeWidth: 2 },
      encoding: { y: { field: 'y', type: 'quantitative' } } });
    return top('Its connectivity: output step \u03c4 \u00d7 input step t (x: this layer\u2019s input)', map);
  }

  function rowSpec(W) {
    return top('Output step under the cursor: how much each input step moves its loss', {
      width: W, height: 110,
      params: [{ name: 'hoverT', value: null }, { name: 'tau', value: null }],
      title: { text: { expr: '"Output step \u03c4 = " + tau + ": how much each input step t moves its loss"' },
        anchor: 'start', fontSize: 13, limit: drill.avail - 90 },
      layer: [
        { data: { name: 'row' }, params: [ZOOM], transform: [{ filter: 'isValid(datum.v) && datum.v > 0' }],
          mark: { type: 'line', color: '#0072B2', strokeWidth: 1.5, point: { size: 12 } },
          encoding: { x: X_STEP, y: { field: 'v', type: 'quantitative', scale: { type: 'log' }, axis: { format: '.0e', tickCount: 4 },
            title: '\u2016\u2202\u2113_\u03c4/\u2202x_t\u2016' } } },
        { data: { name: 'taurow' }, mark: { type: 'rule', color: '#009E73', strokeDash: [4, 3] },
          encoding: { x: { field: 'tau', type: 'quantitative', title: XT } } },
        HOVER_RULE,
        { data: { name: 'row' }, mark: { type: 'rect', opacity: 0 },
          encoding: { x: { field: 'a', type: 'quantitative', title: XT }, x2: { field: 'b' },
            tooltip: [{ field: 't', title: 'input step t' }, { field: 'tau', title: 'output step \u03c4' },
              { field: 'v', title: '\u2016\u2202\u2113_\u03c4/\u2202x_t\u2016' }] } },
      ],
    });
  }

  // The grids (drilldown-grid.ts) and rows for the views of sample s, layer l; colour domains from drill.layerMax.
  function drillRows(s, l) {
    var r = {}, F = s.features, e = edges(s.steps), M = drill.layerMax, G = drill.grids = {};
    r.steps = s.steps.map(function (t) { return { t: t }; });
    r.xl = []; r.bystep = [];
    var adx = s.dx.map(function (v) { return v === null ? null : Math.abs(v); });
    s.steps.forEach(function (t, i) {
      var by = { t: t, a: e[i][0], b: e[i][1] };
      for (var f = 0; f < F; f++) {
        var x = s.x[i * F + f], dx = s.dx.length ? s.dx[i * F + f] : null;
        if (F <= 3) r.xl.push({ t: t, f: 'feature ' + f, x: x, dx: dx, adx: dx === null ? null : adx[i * F + f] });
        by['x' + f] = x; by['d' + f] = dx;
      }
      r.bystep.push(by);
    });
    if (F > 3) {
      var feats = [], names = [];
      for (var f2 = 0; f2 < F; f2++) { feats.push(f2); names.push('feature ' + f2); }
      var base = { steps: s.steps, edges: e, rows: names, axis: feats, yTitle: 'feature' };
      G.x = Object.assign({ vals: s.x, color: { kind: 'div', lo: -M.x, hi: M.x }, legend: 'x_t' }, base);
      if (s.dx.length) G.dx = Object.assign({ vals: adx, color: { kind: 'log', lo: M.dx[0], hi: M.dx[1] }, legend: '|\u2202\u2113/\u2202x_t|' }, base);
    }
    if (!l) return r;
    var el = edges(l.steps), units = l.units.map(function (u) { return 'unit ' + u; });
    var lbase = { steps: l.steps, edges: el, rows: units, axis: l.units, yTitle: 'unit' };
    r.lsteps = l.steps.map(function (t) { return { t: t }; });
    G.h = Object.assign({ vals: l.h, color: { kind: 'div', lo: -M.h, hi: M.h }, legend: 'h_t' }, lbase);
    l.gates.forEach(function (g, gi) {
      var name = g.gate + (g.act ? ' (' + g.act + ')' : '');
      G['g' + gi] = Object.assign({ vals: g.v, legend: name, color: sigmoidLike(g.act) ? { kind: 'unit', lo: 0, hi: 1 }
        : { kind: 'div', lo: -M.gates[gi], hi: M.gates[gi] } }, lbase);
    });
    if (l.conn) {
      // Columns are input steps, rows output steps (the JSON's rows): transposed into the grid's steps × rows.
      var n = l.conn.in.length, R = l.conn.out.length, tv = new Array(n * R);
      for (var i = 0; i < n; i++) for (var j = 0; j < R; j++) tv[i * R + j] = l.conn.v[j * n + i];
      G.cm = { steps: l.conn.in, edges: edges(l.conn.in), rows: l.conn.out.map(function (tau) { return 'output step ' + tau; }),
        axis: l.conn.out, yTitle: 'output step \u03c4', vals: tv, color: { kind: 'log', lo: M.conn[0], hi: M.conn[1] },
        legend: '\u2016\u2202\u2113_\u03c4/\u2202x_t\u2016' };
      r.cmRows = l.conn.out.map(function (tau, j) { return { tau: tau, y0: j, y1: j + 1 }; });
    }
    return r;
  }

  function rowOf(l, tau) {
    var i = l.conn.out.indexOf(tau), n = l.conn.in.length, e = edges(l.conn.in);
    return l.conn.in.map(function (t, j) { return { t: t, a: e[j][0], b: e[j][1], tau: tau, v: l.conn.v[i * n + j] }; });
  }

  function drillEmbed(name, spec, raster, datasets) {
    var el = document.getElementById('drill-' + name);
    var id = 'drill-' + name;
    if (views[id]) { views[id].finalize(); delete views[id]; }
    spec = JSON.parse(JSON.stringify(spec));
    spec.datasets = datasets;
    return vegaEmbed(el, spec, Object.assign(vegaOptions(), { renderer: raster ? 'canvas' : 'svg', downloadFileName: 'rnnscope-' + id }))
      .then(function (res) {
        views[id] = res.view;
        linkHover(res.view);
        if (name === 'conn') res.view.addEventListener('pointermove', function (ev, item) {
          if (item && item.datum && typeof item.datum.tau === 'number') setTau(item.datum.tau);
        });
      });
  }

  // New rows into a view. Rows for the same cells (another sample of the same layer) only change values in place
  // (a Vega modify: no new tuples, so scales and axes are not rebuilt); anything else replaces the dataset.
  function swap(view, datasets) {
    Object.keys(datasets).forEach(function (k) {
      var cur;
      try { cur = view.data(k); } catch (e) { return; }
      var rows = datasets[k], cs = vega.changeset();
      var same = cur.length === rows.length && rows.every(function (r, i) {
        var c = cur[i];
        return c.t === r.t && c.u === r.u && c.f === r.f && c.tau === r.tau;
      });
      if (!same) return view.change(k, cs.remove(vega.truthy).insert(rows));
      var changed = false;
      rows.forEach(function (r, i) {
        Object.keys(r).forEach(function (f) {
          if (cur[i][f] !== r[f]) { cs.modify(cur[i], f, r[f]); changed = true; }
        });
      });
      if (changed) view.change(k, cs);
    });
    return view.runAsync();
  }

  function setTau(tau) {
    var l = drill.layer;
    if (!l || !l.conn || tau === drill.tau || l.conn.out.indexOf(tau) < 0) return drill.ready;
    drill.tau = tau;
    var ds = { row: rowOf(l, tau), taurow: [{ tau: tau, y: l.conn.out.indexOf(tau) + 0.5 }] };
    var jobs = ['row', 'conn'].filter(function (n) { return views['drill-' + n]; }).map(function (n) {
      var v = views['drill-' + n];
      if (n === 'row') v.signal('tau', tau);
      return swap(v, ds);
    });
    drill.ready = Promise.all(jobs).then(function () { return null; });
    return drill.ready;
  }

  function note(name, text) {
    var p = document.getElementById('drill-note-' + name);
    p.textContent = text || '';
    p.hidden = !text;
  }

  function fillPicker(samples) {
    var pick = document.getElementById('drill-pick');
    pick.innerHTML = '';
    pick.style.cssText = 'display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 10px; font-size: 14px;';
    samples.forEach(function (s, k) {
      var lab = document.createElement('label');
      var inp = document.createElement('input');
      inp.type = 'radio'; inp.name = 'drill-sample'; inp.value = String(k); inp.checked = k === drill.sample;
      inp.addEventListener('change', function () { if (inp.checked) drillSelect(k); });
      lab.appendChild(inp);
      lab.appendChild(document.createTextNode(' ' + s.role + ' \u00b7 sample ' + s.index + ' \u00b7 \u2113 = ' + human(s.loss, 4)));
      pick.appendChild(lab);
    });
  }

  // Per layer, the colour domains shared by all its samples (switching sample keeps the colours comparable).
  function posRange(arr, lohi) {
    for (var i = 0; i < arr.length; i++) {
      var v = arr[i] === null ? 0 : Math.abs(arr[i]);
      if (v > 0 && isFinite(v)) { lohi[0] = Math.min(lohi[0], v); lohi[1] = Math.max(lohi[1], v); }
    }
    return lohi;
  }
  function layerMax(samples) {
    var m = { x: 0, h: 0, gates: [], dx: [Infinity, 0], conn: [Infinity, 0] };
    samples.forEach(function (s) {
      m.x = Math.max(m.x, absMax(s.x));
      posRange(s.dx, m.dx);
      var l = s.layers.filter(function (q) { return q.key === state.sel; })[0];
      if (!l) return;
      m.h = Math.max(m.h, absMax(l.h));
      l.gates.forEach(function (g, gi) { m.gates[gi] = Math.max(m.gates[gi] || 0, absMax(g.v)); });
      if (l.conn) posRange(l.conn.v, m.conn);
    });
    [m.dx, m.conn].forEach(function (r) { if (!(r[1] > 0)) { r[0] = 1e-12; r[1] = 1; } else if (r[0] === r[1]) r[0] = r[1] / 10; });
    return m;
  }

  function drillRender() {
    var samples = data.drill && data.drill.runs[state.run];
    var reason = data.drill ? data.drill.reasons[state.run] : 'No sample to show: this page was made without per-sample data.';
    var rEl = document.getElementById('drill-reason');
    rEl.textContent = samples ? '' : reason;
    rEl.hidden = !!samples;
    if (!samples) {
      document.getElementById('drill-pick').innerHTML = '';
      DRILL_VIEWS.forEach(function (n) { note(n, ''); if (views['drill-' + n]) { views['drill-' + n].finalize(); delete views['drill-' + n]; }
        document.getElementById('drill-' + n).innerHTML = ''; });
      drill.shape = ''; drill.run = state.run; drill.layer = null;
      return Promise.resolve();
    }
    if (drill.run !== state.run) { drill.sample = Math.min(drill.sample, samples.length - 1); fillPicker(samples); drill.run = state.run; }
    var s = samples[drill.sample];
    var l = s.layers.filter(function (q) { return q.key === state.sel; })[0] || null;
    var shape = state.run + '|' + state.sel;
    var fresh = shape !== drill.shape;
    if (fresh) { drill.layerMax = layerMax(samples); drill.tau = null; }
    drill.layer = l;
    var r = drillRows(s, l);
    drill.avail = document.getElementById('drill-body').clientWidth;
    drill.narrow = drill.avail < 600;
    var W = Math.max(160, drill.avail - (drill.narrow ? 125 : 150));
    // Whole pixels per step, so the canvas cells meet without seams.
    var T = (l || s).steps.length;
    if (W >= T) W = T * Math.floor(W / T);
    var jobs = [], later = [];
    function show(name, spec, raster, ds) {
      var v = views['drill-' + name];
      // A new sample: the views on screen at once, the others after them.
      if (!fresh && v) {
        if (near(document.getElementById('drill-' + name))) jobs.push(swap(v, ds));
        else later.push(function () { return swap(v, ds); });
      } else jobs.push(drillEmbed(name, spec(), raster, ds));
    }
    var F = s.features;
    var G = drill.grids;
    var inputDs = { steps: r.steps, xl: r.xl, bystep: r.bystep };
    if (G.x) Object.assign(inputDs, gridRows('x', G.x), G.dx ? gridRows('dx', G.dx) : {});
    show('input', function () { return inputSpec(s, W); }, F > 3, inputDs);
    note('state', l ? '' : 'No per-sample values were recorded for this layer.');
    var missing = l ? [] : ['state', 'gates', 'conn', 'row'];
    if (l) {
      show('state', function () { return stateSpec(l, W); }, true, Object.assign({ steps: r.lsteps }, gridRows('h', G.h)));
      // The gate chart's rule (charts/gates.ts): one activation is the new state itself, not a gate.
      var gated = l.gates.length >= 2;
      note('gates', gated ? '' : 'Left out: a ' + l.kind + ' has no gates; its activation is h_t itself, shown above.');
      if (gated) {
        var gds = { steps: r.lsteps };
        l.gates.forEach(function (g, gi) { Object.assign(gds, gridRows('g' + gi, G['g' + gi])); });
        show('gates', function () { return gatesSpec(l, W); }, true, gds);
      } else missing.push('gates');
      note('conn', l.conn ? '' : 'No connectivity map: the model has no sequence output for this layer, or the analysis ran without --connectivity.');
      if (l.conn) {
        var tau = drill.tau !== null && l.conn.out.indexOf(drill.tau) >= 0 ? drill.tau : l.conn.out[l.conn.out.length - 1];
        drill.tau = tau;
        var tauRow = [{ tau: tau, y: l.conn.out.indexOf(tau) + 0.5 }];
        show('conn', function () { return connSpec(l, W); }, true,
          Object.assign({ steps: r.lsteps, cm_rows: r.cmRows, taurow: tauRow }, gridRows('cm', G.cm)));
        show('row', rowSpec.bind(null, W), false, { steps: r.lsteps, row: rowOf(l, tau), taurow: tauRow });
        jobs.push(Promise.all(jobs.slice()).then(function () { if (views['drill-row']) return views['drill-row'].signal('tau', tau).runAsync(); }));
      } else missing.push('conn', 'row');
    }
    missing.forEach(function (n) {
      if (views['drill-' + n]) { views['drill-' + n].finalize(); delete views['drill-' + n]; }
      document.getElementById('drill-' + n).innerHTML = '';
    });
    drill.shape = shape;
    drill.shown = Promise.all(jobs).then(function () { return null; });
    drill.ready = later.reduce(function (p, f) {
      return p.then(function () { return new Promise(function (r) { setTimeout(r, 0); }); }).then(f);
    }, drill.shown).then(function () { return null; });
    return drill.shown;
  }

  function drillSelect(k) {
    drill.sample = k;
    Array.prototype.forEach.call(document.querySelectorAll('input[name=drill-sample]'), function (i) { i.checked = Number(i.value) === k; });
    return drillRender();
  }
`;
