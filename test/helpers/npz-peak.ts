// Child process for io-npz-memory.test.ts: reads one data file as the CLI does (openData on the
// file's bytes) and prints its peak resident memory with what it read or the error it gave.
// Run: node --import tsx test/helpers/npz-peak.ts FILE
import { readFileSync } from 'node:fs';
import { openData } from '../../src/io/data.js';

const file = process.argv[2]!;
let result: {
  arrays?: { name: string; shape: number[]; sum: number; nonzero: number }[];
  error?: string;
  kind?: string;
};
try {
  result = {
    arrays: openData(readFileSync(file), file).map((a) => {
      let sum = 0,
        nonzero = 0;
      for (let i = 0; i < a.data.length; i++) {
        sum += a.data[i]!;
        if (a.data[i] !== 0) nonzero++;
      }
      return { name: a.name, shape: a.shape, sum, nonzero };
    }),
  };
} catch (e) {
  result = { error: e instanceof Error ? e.message : String(e), kind: e instanceof Error ? e.name : typeof e };
}
process.stdout.write(`${JSON.stringify({ maxRssMiB: process.resourceUsage().maxRSS / 1024, ...result })}\n`);
