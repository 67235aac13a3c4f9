// Entry point: `tsx src/cli/main.ts …` in a checkout, dist/src/cli/main.js when built;
// bin/rnnscope.js chooses between them.

import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
