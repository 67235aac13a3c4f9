// The browser build: bundles the pages of web/ (lab: load a model from File objects and run
// it; bench: the engine workloads) with esbuild into dist-web/, next to their HTML and CSS.
//
//   npm run build:web            → dist-web/{lab,bench}.{html,js,js.map}, web.css
//   tsx scripts/build-web.ts DIR → the same into DIR
//
// One classic-script (IIFE) bundle per page, so the pages also work opened from file://
// (module scripts are blocked there). The bundle holds the same src/ modules Node runs:
// src/io (with the ESM build of h5wasm, wasm embedded), src/model, src/engine (with the
// wasm kernels' embedded modules), src/analysis. platform 'browser' makes any node:* import
// a build error, which is how the browser-safety rule of docs/style.md is enforced here.

import { build, type Metafile } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');

/** Pages: bundle entry (web/NAME.ts) and its HTML (web/NAME.html). */
export const PAGES = ['lab', 'bench'] as const;
const STATIC = [...PAGES.map((p) => `${p}.html`), 'web.css'];

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
  const r = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(PAGES.map((p) => [p, path.join(web, `${p}.ts`)])),
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: 'linked',
    minify: opts.minify ?? false,
    metafile: true,
    logLevel: 'warning',
    // h5wasm's Emscripten glue reads import.meta.url only to locate files it would fetch; its
    // wasm is embedded, so nothing is fetched and the empty import.meta of an IIFE is harmless.
    logOverride: { 'empty-import-meta': 'silent' },
  });
  if (r.errors.length) throw new Error(`esbuild failed: ${r.errors.map((e) => e.text).join('; ')}`);
  const files = outputSizes(r.metafile, outdir);
  for (const f of STATIC) {
    await copyFile(path.join(web, f), path.join(outdir, f));
    files[f] = (await stat(path.join(outdir, f))).size;
  }
  return { outdir, files, inputs: inputsOf(r.metafile) };
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
  for (const [f, n] of Object.entries(r.files).sort()) if (!f.endsWith('.map')) console.log(`${path.relative(process.cwd(), path.join(r.outdir, f))}  ${(n / 1024).toFixed(0)} KiB`);
  console.log(`built in ${((performance.now() - t0) / 1e3).toFixed(2)} s`);
}
