// Zoom and pan that stop at the ends of the sequence. A Vega-Lite interval selection bound to the scales
// (charts/common.ts zoom()) zooms and pans its domain without limit; clampZoom, given to vega-embed as its
// `patch` (applied to the compiled Vega spec), renames each such selection signal <s> to <s>_raw and
// defines <s> as that domain clamped to the full extent of the data: a copy of the zoomed scale without the
// selection (<scale>_full). The window keeps its width (at most the whole extent) and slides inside it.
// ES2017 text for the page script (function name `clampZoom`).

export const ZOOM_CLAMP_JS = String.raw`
function clampZoom(spec) {
  function scope(g, chain) {
    var signals = g.signals || [];
    signals.slice().forEach(function (s) {
      var zoomOn = (s.on || []).filter(function (h) {
        return typeof h.update === 'string' && /^zoomLinear\(domain\("[^"]+"\)/.test(h.update);
      })[0];
      if (!zoomOn) return;
      var scaleName = zoomOn.update.match(/domain\("([^"]+)"\)/)[1];
      var owner = null, def = null;
      for (var i = chain.length - 1; i >= 0 && !def; i--) {
        def = (chain[i].scales || []).filter(function (sc) { return sc.name === scaleName; })[0] || null;
        if (def) owner = chain[i];
      }
      if (!def || def.type === 'band' || def.type === 'point') return;
      // In a concat or layer, the unit's signal pushes to a definition in an outer scope: clamp there.
      var at = chain.length - 1, target = g;
      if (s.push === 'outer') {
        target = null;
        for (var k = chain.length - 2; k >= 0 && !target; k--) {
          if ((chain[k].signals || []).some(function (o) { return o.name === s.name && !o.push; })) { target = chain[k]; at = k; }
        }
      }
      if (!target || chain.indexOf(owner) > at) return;
      var full = scaleName + '_full';
      if (!owner.scales.some(function (sc) { return sc.name === full; })) {
        var copy = JSON.parse(JSON.stringify(def));
        copy.name = full;
        delete copy.domainRaw;
        owner.scales.push(copy);
      }
      var raw = s.name + '_raw', d = 'domain("' + full + '")';
      var w = 'min(' + raw + '[1] - ' + raw + '[0], span(' + d + '))';
      var lo = 'clamp(' + raw + '[0], ' + d + '[0], ' + d + '[1] - ' + w + ')';
      var defs = target.signals;
      var orig = defs.filter(function (o) { return o.name === s.name && !o.push; })[0];
      defs.splice(defs.indexOf(orig), 1, Object.assign({}, orig, { name: raw }), {
        name: s.name,
        update: raw + ' ? [' + lo + ', ' + lo + ' + ' + w + '] : null',
      });
      if (s.push === 'outer') s.name = raw;
    });
    (g.marks || []).forEach(function (m) { if (m.type === 'group') scope(m, chain.concat([m])); });
  }
  scope(spec, [spec]);
  return spec;
}
`;
