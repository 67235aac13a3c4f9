// The vega, vega-lite and vega-embed bundles the report page inlines, as text: in Node
// src/report/render-node.ts reads them from node_modules; in the browser build
// (scripts/build-web.ts) these imports are the same files embedded as strings.

import vega from 'rnnscope-text:vega/build/vega.min.js';
import vegaLite from 'rnnscope-text:vega-lite/build/vega-lite.min.js';
import vegaEmbed from 'rnnscope-text:vega-embed/build/vega-embed.min.js';
import type { Bundle } from '../src/report/html.js';

/** In load order, named as readBundles() names them. */
export const BUNDLES: Bundle[] = [
  { name: 'vega', js: vega },
  { name: 'vega-lite', js: vegaLite },
  { name: 'vega-embed', js: vegaEmbed },
];
