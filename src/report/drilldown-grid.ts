// The drill-down's step × row grids (h_t per unit, a gate per unit, x_t or |∂ℓ/∂x_t| per feature, the connectivity
// map) as ES2017 text for the page script: one image per grid, drawn pixel by pixel from the sample's numbers into a
// canvas (one pixel per step and row, scaled without smoothing), under a Vega-Lite layer with the axes, a colour
// legend from the same scheme and domain, the hover rule, and one invisible target per step whose tooltip lists the
// value of every row at that step. Thousands of rect marks would make every hover and every sample switch redraw
// thousands of items (≈ 180 ms for the demo's LSTM gates); an image redraws at once.
//
// A grid g: { rows: [row labels], axis: [axis labels], steps, edges (cell edges per step), vals (steps × rows,
// row-major), color: { kind: 'div' | 'unit' | 'log', lo, hi }, legend (colour title), yTitle }.

export const DRILL_GRID_JS = String.raw`
  var SCHEMES = { div: 'blueorange', unit: 'viridis', log: 'inferno' };
  var luts = {};
  // 256 RGB colours of a Vega scheme, as Vega's colour scale computes them for the legend.
  function lut(kind) {
    if (luts[kind]) return luts[kind];
    var interp = vega.scheme(SCHEMES[kind]);
    var c = document.createElement('canvas');
    c.width = 256; c.height = 1;
    var ctx = c.getContext('2d');
    for (var i = 0; i < 256; i++) {
      var t = kind === 'log' ? 1 - i / 255 : i / 255;
      ctx.fillStyle = typeof interp === 'function' ? interp(t) : interp[Math.round(t * (interp.length - 1))];
      ctx.fillRect(i, 0, 1, 1);
    }
    luts[kind] = ctx.getImageData(0, 0, 256, 1).data;
    return luts[kind];
  }
  function colorIndex(color, v) {
    if (v === null || v === undefined || !isFinite(v)) return -1;
    var t;
    if (color.kind === 'log') {
      if (v <= 0) return -1;
      t = (Math.log(v) - Math.log(color.lo)) / (Math.log(color.hi) - Math.log(color.lo));
    } else t = (v - color.lo) / (color.hi - color.lo);
    return Math.round(255 * Math.min(1, Math.max(0, t)));
  }
  function gridImage(g) {
    var C = g.steps.length, R = g.rows.length, table = lut(g.color.kind);
    var c = document.createElement('canvas');
    c.width = C; c.height = R;
    var ctx = c.getContext('2d'), img = ctx.createImageData(C, R), px = img.data;
    for (var i = 0; i < C; i++) {
      for (var j = 0; j < R; j++) {
        var k = colorIndex(g.color, g.vals[i * R + j]), o = (j * C + i) * 4;
        if (k < 0) continue; // transparent: no value (the page's white shows)
        px[o] = table[k * 4]; px[o + 1] = table[k * 4 + 1]; px[o + 2] = table[k * 4 + 2]; px[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    return c.toDataURL('image/png');
  }
  // The grid's datasets: <name>_img (the image and its extent), <name>_cols (per step: t, its cell edges a–b and
  // r<j> = the value of row j), <name>_lg (the colour domain's ends, for the legend).
  function gridRows(name, g) {
    var out = {}, e = g.edges, R = g.rows.length;
    out[name + '_img'] = [{ a: e[0][0], b: e[e.length - 1][1], y0: 0, y1: R, url: gridImage(g) }];
    out[name + '_cols'] = g.steps.map(function (t, i) {
      var r = { t: t, a: e[i][0], b: e[i][1] };
      for (var j = 0; j < R; j++) r['r' + j] = g.vals[i * R + j];
      return r;
    });
    out[name + '_lg'] = [{ a: e[0][0], v: g.color.lo }, { a: e[0][0], v: g.color.hi }];
    return out;
  }
  function gridPanel(name, g, W, rowH, zoom) {
    var R = g.rows.length, every = Math.ceil(R / 8), ticks = [];
    for (var j = 0; j < R; j += every) ticks.push(j + 0.5);
    var log = g.color.kind === 'log';
    var color = { field: 'v', type: 'quantitative', title: g.legend,
      scale: { type: log ? 'log' : 'linear', scheme: SCHEMES[g.color.kind], reverse: log, domain: [g.color.lo, g.color.hi] },
      legend: legendAt(log ? { format: '.0e', labelExpr: data.drillConfig.axis.labelExpr } : {}) };
    var tip = [{ field: 't', title: 'step' }].concat(g.rows.map(function (r, j) { return { field: 'r' + j, title: r }; }));
    return {
      width: W,
      height: g.height || Math.max(36, R * rowH),
      layer: [
        { data: { name: name + '_img' }, params: zoom ? [ZOOM] : [], mark: { type: 'image', aspect: false, smooth: false },
          encoding: { x: X_CELL, x2: { field: 'b' },
            y: { field: 'y0', type: 'quantitative', title: g.yTitle, scale: { domain: [0, R], reverse: true, nice: false, zero: false },
              axis: { values: ticks, grid: false, labelFontSize: 10, labelExpr: JSON.stringify(g.axis) + '[floor(datum.value)]' } },
            y2: { field: 'y1' }, url: { field: 'url' } } },
        { data: { name: name + '_lg' }, mark: { type: 'rect', opacity: 0 }, encoding: { x: X_CELL, x2: { field: 'a' }, color: color } },
        HOVER_RULE,
        { data: { name: name + '_cols' }, mark: { type: 'rect', opacity: 0 }, encoding: { x: X_CELL, x2: { field: 'b' }, tooltip: tip } },
      ],
    };
  }
`;
