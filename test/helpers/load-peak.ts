// Child process for io-limits.test.ts and model-large.test.ts: loads one model file as the CLI does
// (loadModelFile) and prints, as one JSON line, its peak resident memory, the time the load took,
// and what it gave: the layer count, or the error's class, stage, file and message.
// Run: node --import tsx test/helpers/load-peak.ts MODEL [WEIGHTS]
import { loadModelFile } from '../../src/io/node.js';
import { summary } from '../../src/model/summary.js';
import { RnnscopeError } from '../../src/model/errors.js';

const [file, weights] = process.argv.slice(2) as [string, string | undefined];
const t0 = performance.now();
let result: Record<string, unknown>;
try {
  const m = await loadModelFile(file, weights !== undefined ? { weights } : {});
  const text = summary(m);
  result = { outcome: 'ok', layers: m.layers.length, summaryLines: text.split('\n').length };
} catch (e) {
  result =
    e instanceof RnnscopeError
      ? { outcome: e.name, stage: e.stage, file: e.file ?? null, message: e.message }
      : { outcome: 'untyped', message: String(e instanceof Error ? e.stack : e) };
}
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ ...result, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
