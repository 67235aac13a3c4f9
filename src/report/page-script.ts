// The page's own script, inlined after the vega bundles. It embeds every chart,
// and drives the run/layer selectors and the log/linear toggle by setting the
// `sel` / `run` signals (no re-embed) or swapping the spec variant (re-embed).
// Kept as plain ES2017 text (no template literals) so it can be inlined as is;
// window.rnnscope exposes state and views for the browser test.

import { COLUMNS_JS } from './columns.js';
import { DRILL_GRID_JS } from './drilldown-grid.js';
import { DRILL_JS } from './drilldown-script.js';
import { HUMAN_JS } from './human.js';
import { PACKED_JS } from './packed.js';
import { ZOOM_CLAMP_JS } from './zoom-clamp.js';

export const PAGE_SCRIPT = `${COLUMNS_JS}${HUMAN_JS}${PACKED_JS}${ZOOM_CLAMP_JS}${String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('rnnscope-data').textContent);
  // Large columns and the drill-down arrive packed (packed.ts): nothing is drawn before they are inflated.
  var unpacked = unpackAll(data);
  var state = { run: data.initial.run, sel: data.initial.sel, scale: data.initial.scale };
  var views = {};
  var byId = {};
  data.charts.forEach(function (c) { byId[c.id] = c; });
  var runSelect = document.getElementById('sel-run');
  var layerSelect = document.getElementById('sel-layer');

  // Charts are built 640 px wide (plus axes and legends); on a narrower screen every width in the spec shrinks
  // by one factor, so a chart fits its column instead of scrolling inside it.
  function fitWidth(spec, avail, extra) {
    var f = Math.min(1, Math.max(0.25, (avail - 120) / 640) * (extra || 1));
    if (f >= 1) return;
    (function walk(o, key) {
      if (!o || typeof o !== 'object' || key === 'datasets' || key === 'config' || key === 'data') return;
      if (typeof o.width === 'number') o.width = Math.floor(o.width * f);
      Object.keys(o).forEach(function (k) { walk(o[k], k); });
    })(spec, null);
    var cfg = spec.config || {};
    spec.config = Object.assign({}, cfg, {
      legend: Object.assign({}, cfg.legend, { labelLimit: 160, direction: 'vertical', columns: 1 }),
      // Long axis labels (tensor names) shortened to a third of the column, so the plot keeps the rest.
      axis: Object.assign({}, cfg.axis, { labelLimit: Math.max(90, Math.floor(avail / 3)) }),
      title: Object.assign({}, cfg.title, { limit: avail - 40, subtitleLimit: avail - 40 }),
    });
  }

  function specFor(c, extra) {
    var variant = c.scaleToggle && state.scale === 'linear' && c.specs.linear ? c.specs.linear : c.specs.log;
    var s = JSON.parse(JSON.stringify(variant));
    if (!c.rows) {
      c.rows = {};
      Object.keys(c.datasets).forEach(function (k) { c.rows[k] = fromColumns(c.datasets[k]); });
    }
    s.datasets = c.rows;
    (s.params || []).forEach(function (p) {
      if (p.name === 'sel') p.value = state.sel;
      if (p.name === 'run') p.value = state.run;
    });
    s.autosize = { type: 'pad' };
    fitWidth(s, document.getElementById('vis-' + c.id).clientWidth, extra);
    return s;
  }

  function vegaOptions() {
    return {
      tooltip: { formatTooltip: formatTooltip },
      actions: { export: true, source: false, compiled: false, editor: false },
      // Expressions run in vega's interpreter, not compiled with Function(): the page's
      // Content-Security-Policy allows no 'unsafe-eval'.
      ast: true,
      // Specs are checked when built; at run time an empty selection (a layer without a
      // connectivity map, say) only produces "empty extent" warnings, so show errors only.
      logLevel: vega.Error,
      // Zoom and pan stop at the ends of the sequence (zoom-clamp.ts).
      patch: clampZoom,
    };
  }

  function embed(c, extra) {
    var el = document.getElementById('vis-' + c.id);
    if (views[c.id]) { views[c.id].finalize(); delete views[c.id]; }
    return vegaEmbed(el, specFor(c, extra), Object.assign(vegaOptions(), {
      renderer: c.raster ? 'canvas' : 'svg',
      downloadFileName: 'rnnscope-' + c.id,
    })).then(function (res) {
      views[c.id] = res.view;
      linkHover(res.view);
      // Still wider than its column (facets, legends): shrink once more by the overflow.
      if (!extra && el.scrollWidth > el.clientWidth + 1) return embed(c, Math.max(0.2, el.clientWidth / el.scrollWidth - 0.04));
      el.setAttribute('data-rendered', 'true');
    }).catch(function (err) {
      el.textContent = 'This chart could not be drawn: ' + err.message;
      console.error(err);
    });
  }

  // Tooltip numbers as people write them (human(), also used by the server-drawn text).
  var NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  function formatTooltip(value, valueToHtml) {
    if (value === null || typeof value !== 'object') return valueToHtml(String(value));
    // A series the selected layer does not have (the spec lists those of every layer) is left out; a missing value
    // reads n/a.
    var rows = Object.keys(value).filter(function (k) {
      return k !== 'title' && value[k] !== undefined && value[k] !== 'undefined';
    }).map(function (k) {
      var v = value[k] === null || value[k] === 'null' || value[k] === 'NaN' ? 'n/a' : value[k];
      var text = typeof v === 'number' ? human(v) : typeof v === 'string' && NUMBER.test(v) ? human(Number(v))
        : String(v).replace(/-?\d+(\.\d+)?e[-+]?\d+/g, function (m) { return human(Number(m)); });
      return '<tr><td class="key">' + valueToHtml(k) + '</td><td class="value">' + valueToHtml(text) + '</td></tr>';
    });
    var title = value.title !== undefined ? '<h2>' + valueToHtml(String(value.title)) + '</h2>' : '';
    return title + '<table>' + rows.join('') + '</table>';
  }

  // Hovering step t in one step chart marks t in every step chart (those with a hoverT signal).
  function hasHover(v) { try { v.signal('hoverT'); return true; } catch (e) { return false; } }
  function setHover(t) {
    Object.keys(views).forEach(function (id) {
      var v = views[id];
      if (hasHover(v) && v.signal('hoverT') !== t) v.signal('hoverT', t).runAsync();
    });
  }
  function linkHover(view) {
    if (!hasHover(view)) return;
    view.addEventListener('pointermove', function (e, item) {
      var t = item && item.datum && typeof item.datum.t === 'number' ? item.datum.t : null;
      if (t !== null) setHover(t);
    });
    view.addEventListener('pointerout', function () { setHover(null); });
  }
${DRILL_JS}${DRILL_GRID_JS}
  // A chart with nothing to show for the selection is hidden behind one line saying so.
  function markEmpty() {
    data.charts.forEach(function (c) {
      var reason = c.scope === 'layer' ? c.empty[state.sel] : c.scope === 'run' ? c.empty['run:' + state.run] : null;
      var el = document.getElementById('vis-' + c.id);
      var note = document.getElementById('empty-' + c.id);
      if (!note) {
        note = document.createElement('p');
        note.id = 'empty-' + c.id;
        note.className = 'left-out';
        el.parentNode.insertBefore(note, el);
      }
      note.textContent = reason || '';
      note.hidden = !reason;
      el.classList.toggle('is-empty', !!reason); // collapsed, not hidden: it keeps its width for fitWidth
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

  // A selection redraws the charts on screen at once; the others in the background or when they scroll into view, so
  // switching layer costs what the reader sees, not the whole page.
  var stale = {};
  function near(el) {
    var r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  }
  function update(id) {
    delete stale[id];
    return views[id].signal('sel', state.sel).signal('run', state.run).runAsync();
  }
  function applySelection() {
    var jobs = [];
    data.charts.forEach(function (c) {
      var v = views[c.id];
      if (!v || c.scope === 'set') return;
      if (near(document.getElementById('vis-' + c.id))) jobs.push(update(c.id));
      else stale[c.id] = true;
    });
    document.body.setAttribute('data-sel', state.sel);
    markEmpty();
    // The drill-down follows at once when on screen, else after the other charts.
    var drillNow = near(document.getElementById('drill-body'));
    if (drillNow) jobs.push(unpacked.then(function () { return drillRender(); }));
    var shown = Promise.all(jobs);
    // Then the rest, one chart at a time in the background; rnnscope.settled resolves when all are current.
    window.rnnscope.settled = shown.then(function () {
      return Object.keys(stale).reduce(function (p, id) {
        return p.then(function () { return new Promise(function (r) { setTimeout(r, 0); }); }).then(function () {
          return stale[id] && views[id] ? update(id) : null;
        });
      }, Promise.resolve());
    }).then(function () { return drillNow ? null : unpacked.then(function () { return drillRender(); }); }).then(function () {
      return null;
    });
    return shown;
  }
  var seen = typeof IntersectionObserver === 'function' ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      var id = e.target.id.slice(4);
      if (e.isIntersecting && stale[id] && views[id]) update(id);
    });
  }, { rootMargin: '100% 0px' }) : null;
  Array.prototype.forEach.call(document.querySelectorAll('.vis'), function (el) { if (seen) seen.observe(el); });
  if (!seen) near = function () { return true; };
  // Anchors land below the sticky controls, however many lines they wrap to.
  var controlsEl = document.getElementById('controls');
  function controlsHeight() {
    var fixed = controlsEl && getComputedStyle(controlsEl).position === 'sticky';
    document.documentElement.style.setProperty('--controls-h', (fixed ? controlsEl.offsetHeight + 12 : 12) + 'px');
  }
  controlsHeight();
  window.addEventListener('resize', controlsHeight);

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
      window.rnnscope.ready = unpacked.then(function () {
        return Promise.all(data.charts.filter(function (c) { return c.scaleToggle; }).map(function (c) { return embed(c); }));
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('a.finding-link'), function (a) {
    a.addEventListener('click', function () {
      var sel = a.getAttribute('data-sel');
      select(Number(a.getAttribute('data-run')), sel || null);
    });
  });

  // Charts are embedded one after another once the first screen (server-drawn) has been painted, so the page
  // stays responsive while they come in; ready resolves when all are drawn.
  function embedAll() {
    return data.charts.reduce(function (p, c) {
      return p.then(function () { return new Promise(function (r) { setTimeout(r, 0); }); }).then(function () {
        return embed(c);
      });
    }, new Promise(function (r) { requestAnimationFrame(function () { setTimeout(r, 0); }); }));
  }

  fillLayers();
  markEmpty();
  drillSection();
  var drillApi = { state: drill, select: drillSelect, setTau: setTau };
  window.rnnscope = { state: state, views: views, select: select, ready: null, settled: Promise.resolve(), drill: drillApi };
  window.rnnscope.ready = unpacked.then(embedAll).then(function () { return drillRender(); });
})();
`}`;
