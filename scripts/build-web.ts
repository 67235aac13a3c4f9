// The browser build: bundles the pages of web/ (app: drop a model and data, get the report;
// lab: load a model from File objects and run it; bench: the engine workloads) with esbuild into
// dist-web/, next to their HTML and CSS.
//
//   npm run build:web            → dist-web/{app,lab,bench}.{html,js,js.map}, app.css, web.css
//   tsx scripts/build-web.ts DIR → the same into DIR
//
// The app's worker (web/app-worker.ts) is bundled first and embedded in app.js as text, which
// app.js starts from a blob: URL (a page opened from file:// may not start a worker from a file).
// The gradient pool's worker (web/pool-worker-entry.ts) is bundled before it and embedded the same
// way in the app's worker, which starts it from a blob: URL (web/pool-browser.ts).
// The worker also holds, as text, the vega bundles the report page inlines, and maps node:crypto
// (src/report/html.ts hashes the report's scripts for its CSP) to web/node-crypto-shim.ts.
//
// One classic-script (IIFE) bundle per page, so the pages also work opened from file://
// (module scripts are blocked there). The bundle holds the same src/ modules Node runs:
// src/io (with the ESM build of h5wasm, wasm embedded), src/model, src/engine (with the
// wasm kernels' embedded modules), src/analysis. platform 'browser' makes any node:* import
// a build error, which is how the rule that these stages import nothing from node:* is enforced here.

import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');

/** Pages: bundle entry (web/NAME.ts) and its HTML (web/NAME.html). */
export const PAGES = ['app', 'lab', 'bench'] as const;
const STATIC = [...PAGES.map((p) => `${p}.html`), 'web.css', 'app.css'];
/** The files of the app page, all a server of it (src/cli/serve.ts) ever sends. */
export const APP_FILES = ['app.html', 'app.js', 'app.css'] as const;

const require = createRequire(import.meta.url);

/** The folder of an installed package (export maps may hide its package.json, so walk up from its entry). */
async function packageDir(pkg: string): Promise<string> {
  let dir = path.dirname(require.resolve(pkg));
  for (;;) {
    try {
      if (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')).name === pkg) return dir;
    } catch {
      /* no package.json here */
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${pkg}`);
    dir = up;
  }
}

/**
 * Text modules: 'rnnscope-text:<package>/<path>' is that file of an installed package as a string;
 * 'rnnscope-text:app-worker' and 'rnnscope-text:pool-worker' are the worker bundles given in `workers`.
 * `node:crypto` becomes the SHA-256 shim when `shimCrypto` (the worker build).
 */
function textModules(workers: Record<string, string>, shimCrypto: boolean): Plugin {
  return {
    name: 'rnnscope-text',
    setup(b) {
      b.onResolve({ filter: /^rnnscope-text:/ }, (a) => ({
        path: a.path.slice('rnnscope-text:'.length),
        namespace: 'rnnscope-text',
      }));
      b.onLoad({ filter: /.*/, namespace: 'rnnscope-text' }, async (a) => {
        if (a.path === 'app-worker' || a.path === 'pool-worker') {
          const text = workers[a.path];
          if (text === undefined) throw new Error(`the ${a.path} bundle is not embedded in this bundle`);
          return { contents: text, loader: 'text' };
        }
        const pkg = a.path.startsWith('@') ? a.path.split('/').slice(0, 2).join('/') : a.path.split('/')[0]!;
        return {
          contents: await readFile(path.join(await packageDir(pkg), a.path.slice(pkg.length + 1)), 'utf8'),
          loader: 'text',
        };
      });
      if (shimCrypto) b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: path.join(web, 'node-crypto-shim.ts') }));
    },
  };
}

export interface BuildWebOptions {
  /** Output folder (default dist-web/ at the repository root); emptied first. */
  outdir?: string;
  minify?: boolean;
}

export interface BuildWebResult {
  outdir: string;
  /** Output files and their sizes in bytes. */
  files: Record<string, number>;
  /** The input modules of each bundle (paths relative to the repository root). */
  inputs: Record<string, string[]>;
}

export async function buildWeb(opts: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outdir = path.resolve(opts.outdir ?? path.join(root, 'dist-web'));
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const common = {
    absWorkingDir: root,
    bundle: true,
    format: 'iife' as const,
    platform: 'browser' as const,
    target: ['es2022'],
    metafile: true as const,
    logLevel: 'warning' as const,
    // h5wasm's Emscripten glue reads import.meta.url only to locate files it would fetch; its
    // wasm is embedded, so nothing is fetched and the empty import.meta of an IIFE is harmless.
    logOverride: { 'empty-import-meta': 'silent' as const },
  };
  // Minified, but with class names kept: errors are shown by their class (LoadError, DataError, …).
  const workerBuild = { ...common, write: false as const, minify: true, keepNames: true };
  const pw = await build({
    ...workerBuild,
    entryPoints: [path.join(web, 'pool-worker-entry.ts')],
    outfile: path.join(outdir, 'pool-worker.js'),
    plugins: [textModules({}, false)],
  });
  if (pw.errors.length) throw new Error(`esbuild failed: ${pw.errors.map((e) => e.text).join('; ')}`);
  const w = await build({
    ...workerBuild,
    entryPoints: [path.join(web, 'app-worker.ts')],
    outfile: path.join(outdir, 'app-worker.js'),
    plugins: [textModules({ 'pool-worker': pw.outputFiles[0]!.text }, true)],
  });
  if (w.errors.length) throw new Error(`esbuild failed: ${w.errors.map((e) => e.text).join('; ')}`);
  const workerJs = w.outputFiles[0]!.text;
  const r = await build({
    ...common,
    entryPoints: Object.fromEntries(PAGES.map((p) => [p, path.join(web, `${p}.ts`)])),
    outdir,
    sourcemap: 'linked',
    minify: opts.minify ?? false,
    plugins: [textModules({ 'app-worker': workerJs }, false)],
  });
  if (r.errors.length) throw new Error(`esbuild failed: ${r.errors.map((e) => e.text).join('; ')}`);
  const files = outputSizes(r.metafile, outdir);
  for (const f of STATIC) {
    await copyFile(path.join(web, f), path.join(outdir, f));
    files[f] = (await stat(path.join(outdir, f))).size;
  }
  const inputs = {
    ...inputsOf(r.metafile),
    'app-worker': Object.keys(w.metafile.inputs).sort(),
    'pool-worker': Object.keys(pw.metafile.inputs).sort(),
  };
  return { outdir, files, inputs };
}

function outputSizes(meta: Metafile, outdir: string): Record<string, number> {
  const files: Record<string, number> = {};
  for (const [f, o] of Object.entries(meta.outputs)) files[path.relative(outdir, path.resolve(root, f))] = o.bytes;
  return files;
}

function inputsOf(meta: Metafile): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [f, o] of Object.entries(meta.outputs)) {
    if (!o.entryPoint) continue;
    out[path.basename(f, '.js')] = Object.keys(o.inputs).sort();
  }
  return out;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const t0 = performance.now();
  const r = await buildWeb(process.argv[2] ? { outdir: process.argv[2] } : {});
  for (const [f, n] of Object.entries(r.files).sort())
    if (!f.endsWith('.map'))
      console.error(`${path.relative(process.cwd(), path.join(r.outdir, f))}  ${(n / 1024).toFixed(0)} KiB`);
  // stderr: `npm pack --json` runs this in prepack, and its stdout must stay JSON.
  console.error(`built in ${((performance.now() - t0) / 1e3).toFixed(2)} s`);
}
