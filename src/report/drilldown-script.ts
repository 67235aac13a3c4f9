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
      title: { text: title, anchor: 'start', fontSize: 13, limit: drill.avail - 20 },
      autosize: { type: 'pad' },
    }, body);
  }
  function cells(name, y, color, tooltip, width, height, zoom) {
    return {
      width: width,
      height: height,
      layer: [
        {
          data: { name: name },
          params: zoom ? [ZOOM] : [],
          mark: { type: 'rect' },
          encoding: { x: X_CELL, x2: { field: 'b' }, y: y, color: color, tooltip: tooltip },
        },
        HOVER_RULE,
      ],
    };
  }
  function diverging(title, m) {
    return { field: 'v', type: 'quantitative', title: title, scale: { scheme: 'blueorange', domain: [-m, m] },
      legend: legendAt({}) };
  }
  // Units by their index in the layer (the shown ones are a subset when the layer is wide); at most 8 labelled.
  function unitAxis(units) {
    var every = Math.ceil(units.length / 8);
    var shown = units.filter(function (u, j) { return j % every === 0; });
    return { field: 'u', type: 'ordinal', title: 'unit', sort: 'ascending',
      axis: { labelOverlap: false, labelFontSize: 10, labelExpr: 'indexof(' + JSON.stringify(shown) + ', datum.value) >= 0 ? datum.label : \'\'' } };
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
    var y = { field: 'f', type: 'ordinal', title: 'feature' };
    var tipCells = [{ field: 't', title: 'step' }, { field: 'f', title: 'feature' }, { field: 'x', title: 'x' },
      { field: 'dx', title: '\u2202\u2113/\u2202x' }];
    var h = Math.max(60, Math.min(180, 6 * F));
    var xPanel = cells('xc', y, diverging('x_t', drill.layerMax.x), tipCells, W, h, true);
    var dxPanel = cells('dxc', y, { field: 'v', type: 'quantitative', title: '|\u2202\u2113/\u2202x_t|',
      scale: { type: 'log', scheme: 'inferno', reverse: true }, legend: legendAt({ format: '.0e', labelExpr: data.drillConfig.axis.labelExpr }) },
      tipCells, W, h, false);
    return top('Its input x_t and |\u2202\u2113/\u2202x_t| per step and feature',
      { vconcat: hasDx ? [xPanel, dxPanel] : [xPanel], resolve: { scale: { x: 'shared', color: 'independent' } } });
  }

  function stateSpec(l, W) {
    var tip = [{ field: 't', title: 'step' }, { field: 'u', title: 'unit' }, { field: 'v', title: 'h_t' }];
    return top('Its state h_t per unit (' + l.units.length + ' shown)',
      cells('h', unitAxis(l.units), diverging('h_t', drill.layerMax.h), tip, W, { step: 9 }, true));
  }

  function gatesSpec(l, W) {
    var panels = l.gates.map(function (g, gi) {
      var sig = sigmoidLike(g.act);
      var color = sig
        ? { field: 'v', type: 'quantitative', title: g.gate + ' (' + g.act + ')', scale: { scheme: 'viridis', domain: [0, 1] },
          legend: legendAt({}) }
        : diverging(g.gate + (g.act ? ' (' + g.act + ')' : ''), drill.layerMax.gates[gi]);
      var tip = [{ field: 't', title: 'step' }, { field: 'u', title: 'unit' }, { field: 'v', title: 'gate ' + g.gate }];
      var p = cells('g' + gi, unitAxis(l.units), color, tip, W, { step: 6 }, gi === 0);
      p.title = { text: 'gate ' + g.gate, fontSize: 11, fontWeight: 'normal', anchor: 'start' };
      return p;
    });
    return top('Its gate activations per unit', { vconcat: panels, resolve: { scale: { x: 'shared', color: 'independent' } } });
  }

  function connSpec(l, W) {
    var tip = [{ field: 'tau', title: 'output step \u03c4' }, { field: 't', title: 'input step t' },
      { field: 'v', title: '\u2016\u2202\u2113_\u03c4/\u2202x_t\u2016' }];
    var map = cells('cm', { field: 'c', type: 'quantitative', title: 'output step \u03c4', scale: { nice: false, zero: false, reverse: true } },
      { field: 'v', type: 'quantitative', title: '\u2016\u2202\u2113_\u03c4/\u2202x_t\u2016', scale: { type: 'log', scheme: 'inferno', reverse: true },
        legend: legendAt({ format: '.0e', labelExpr: data.drillConfig.axis.labelExpr }) }, tip, W, 160, true);
    map.layer[0].encoding.y2 = { field: 'd' };
    map.layer.push({ data: { name: 'taurow' }, mark: { type: 'rule', color: '#009E73', strokeWidth: 2 },
      encoding: { y: { field: 'tau', type: 'quantitative', title: 'output step \u03c4' } } });
    return top('Its connectivity: output step \u03c4 \u00d7 input step t (x: this layer\u2019s input)', map);
  }

  function rowSpec(W) {
    return top('Output step under the cursor: how much each input step moves its loss', {
      width: W, height: 110,
      params: [{ name: 'hoverT', value: null }, { name: 'tau', value: null }],
      title: { text: { expr: '"Output step \u03c4 = " + tau + ": how much each input step t moves its loss"' },
        anchor: 'start', fontSize: 13, limit: drill.avail - 20 },
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

  // Rows for the views of sample s, layer l.
  function drillRows(s, l) {
    var r = {}, F = s.features, e = edges(s.steps);
    r.steps = s.steps.map(function (t) { return { t: t }; });
    r.xl = []; r.xc = []; r.dxc = []; r.bystep = [];
    s.steps.forEach(function (t, i) {
      var by = { t: t, a: e[i][0], b: e[i][1] };
      for (var f = 0; f < F; f++) {
        var x = s.x[i * F + f], dx = s.dx.length ? s.dx[i * F + f] : null;
        var adx = dx === null ? null : Math.abs(dx);
        if (F <= 3) r.xl.push({ t: t, f: 'feature ' + f, x: x, dx: dx, adx: adx });
        else {
          r.xc.push({ t: t, a: e[i][0], b: e[i][1], f: f, x: x, dx: dx, v: x });
          if (adx !== null && adx > 0) r.dxc.push({ t: t, a: e[i][0], b: e[i][1], f: f, x: x, dx: dx, v: adx });
        }
        by['x' + f] = x; by['d' + f] = dx;
      }
      r.bystep.push(by);
    });
    if (!l) return r;
    var U = l.units.length, el = edges(l.steps);
    r.lsteps = l.steps.map(function (t) { return { t: t }; });
    function grid(vals) {
      var out = [];
      l.steps.forEach(function (t, i) {
        for (var j = 0; j < U; j++) {
          var v = vals[i * U + j];
          if (v !== null) out.push({ t: t, a: el[i][0], b: el[i][1], u: l.units[j], v: v });
        }
      });
      return out;
    }
    r.h = grid(l.h);
    l.gates.forEach(function (g, gi) { r['g' + gi] = grid(g.v); });
    if (l.conn) {
      var ei = edges(l.conn.in), eo = edges(l.conn.out), n = l.conn.in.length;
      r.cm = [];
      l.conn.out.forEach(function (tau, i) {
        l.conn.in.forEach(function (t, j) {
          var v = l.conn.v[i * n + j];
          if (v !== null && v > 0) r.cm.push({ t: t, a: ei[j][0], b: ei[j][1], tau: tau, c: eo[i][0], d: eo[i][1], v: v });
        });
      });
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
    var ds = { row: rowOf(l, tau), taurow: [{ tau: tau }] };
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
  function layerMax(samples) {
    var m = { x: 1, h: 1, gates: [] };
    samples.forEach(function (s, k) {
      m.x = k ? Math.max(m.x, absMax(s.x)) : absMax(s.x);
      var l = s.layers.filter(function (q) { return q.key === state.sel; })[0];
      if (!l) return;
      m.h = k ? Math.max(m.h, absMax(l.h)) : absMax(l.h);
      l.gates.forEach(function (g, gi) { m.gates[gi] = Math.max(k ? m.gates[gi] : 0, absMax(g.v)); });
    });
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
    var W = Math.max(160, drill.avail - (drill.narrow ? 75 : 150));
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
    show('input', function () { return inputSpec(s, W); }, F > 3, { steps: r.steps, xl: r.xl, xc: r.xc, dxc: r.dxc, bystep: r.bystep });
    note('state', l ? '' : 'No per-sample values were recorded for this layer.');
    var missing = l ? [] : ['state', 'gates', 'conn', 'row'];
    if (l) {
      show('state', function () { return stateSpec(l, W); }, true, { steps: r.lsteps, h: r.h });
      var gated = l.kind !== 'SimpleRNN' && l.gates.length > 0;
      note('gates', gated ? '' : 'Left out: a SimpleRNN has no gates; its activation is h_t itself, shown above.');
      if (gated) {
        var gds = { steps: r.lsteps };
        l.gates.forEach(function (g, gi) { gds['g' + gi] = r['g' + gi]; });
        show('gates', function () { return gatesSpec(l, W); }, true, gds);
      } else missing.push('gates');
      note('conn', l.conn ? '' : 'No connectivity map: the model has no sequence output for this layer, or the analysis ran without --connectivity.');
      if (l.conn) {
        var tau = drill.tau !== null && l.conn.out.indexOf(drill.tau) >= 0 ? drill.tau : l.conn.out[l.conn.out.length - 1];
        drill.tau = tau;
        show('conn', function () { return connSpec(l, W); }, true, { steps: r.lsteps, cm: r.cm, taurow: [{ tau: tau }] });
        show('row', rowSpec.bind(null, W), false, { steps: r.lsteps, row: rowOf(l, tau), taurow: [{ tau: tau }] });
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
