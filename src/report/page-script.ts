// The page's own script, inlined after the vega bundles. It embeds every chart,
// and drives the run/layer selectors and the log/linear toggle by setting the
// `sel` / `run` signals (no re-embed) or swapping the spec variant (re-embed).
// Kept as plain ES2017 text (no template literals) so it can be inlined as is;
// window.rnnscope exposes state and views for the browser test.

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('rnnscope-data').textContent);
  var state = { run: data.initial.run, sel: data.initial.sel, scale: data.initial.scale };
  var views = {};
  var byId = {};
  data.charts.forEach(function (c) { byId[c.id] = c; });
  var runSelect = document.getElementById('sel-run');
  var layerSelect = document.getElementById('sel-layer');

  function specFor(c) {
    var variant = c.scaleToggle && state.scale === 'linear' && c.specs.linear ? c.specs.linear : c.specs.log;
    var s = JSON.parse(JSON.stringify(variant));
    s.datasets = c.datasets;
    (s.params || []).forEach(function (p) {
      if (p.name === 'sel') p.value = state.sel;
      if (p.name === 'run') p.value = state.run;
    });
    s.autosize = { type: 'pad' };
    return s;
  }

  function embed(c) {
    var el = document.getElementById('vis-' + c.id);
    if (views[c.id]) { views[c.id].finalize(); delete views[c.id]; }
    return vegaEmbed(el, specFor(c), {
      renderer: 'svg',
      actions: { export: true, source: false, compiled: false, editor: false },
      downloadFileName: 'rnnscope-' + c.id,
      // Expressions run in vega's interpreter, not compiled with Function(): the page's
      // Content-Security-Policy allows no 'unsafe-eval'.
      ast: true,
      // Specs are checked when built; at run time an empty selection (a layer without a
      // connectivity map, say) only produces "empty extent" warnings, so show errors only.
      logLevel: vega.Error,
    }).then(function (res) {
      views[c.id] = res.view;
      el.setAttribute('data-rendered', 'true');
    }).catch(function (err) {
      el.textContent = 'This chart could not be drawn: ' + err.message;
      console.error(err);
    });
  }

  function fillLayers() {
    var run = data.runs[state.run];
    layerSelect.innerHTML = '';
    run.layers.forEach(function (l) {
      var o = document.createElement('option');
      o.value = l.key; o.textContent = l.label;
      layerSelect.appendChild(o);
    });
    if (!run.layers.some(function (l) { return l.key === state.sel; })) state.sel = run.layers.length ? run.layers[0].key : '';
    layerSelect.value = state.sel;
    layerSelect.disabled = run.layers.length < 2;
  }

  function applySelection() {
    var jobs = [];
    data.charts.forEach(function (c) {
      var v = views[c.id];
      if (!v || c.scope === 'set') return;
      jobs.push(v.signal('sel', state.sel).signal('run', state.run).runAsync());
    });
    document.body.setAttribute('data-sel', state.sel);
    return Promise.all(jobs);
  }

  function select(run, sel) {
    var changedRun = run !== state.run;
    state.run = run;
    if (sel) state.sel = sel;
    if (runSelect) runSelect.value = String(run);
    if (changedRun || sel) fillLayers();
    return applySelection();
  }

  if (runSelect) runSelect.addEventListener('change', function () { select(Number(runSelect.value), null); });
  layerSelect.addEventListener('change', function () { select(state.run, layerSelect.value); });
  Array.prototype.forEach.call(document.querySelectorAll('input[name=scale]'), function (input) {
    input.addEventListener('change', function () {
      if (!input.checked) return;
      state.scale = input.value;
      var jobs = data.charts.filter(function (c) { return c.scaleToggle; }).map(embed);
      window.rnnscope.ready = Promise.all(jobs);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('a.finding-link'), function (a) {
    a.addEventListener('click', function () {
      var sel = a.getAttribute('data-sel');
      select(Number(a.getAttribute('data-run')), sel || null);
    });
  });

  fillLayers();
  window.rnnscope = { state: state, views: views, select: select, ready: Promise.all(data.charts.map(embed)) };
})();
`;
