#!/usr/bin/env node
// rnnscope command. Runs the built CLI (dist/src/cli/main.js) when it exists, as in an
// installed package; otherwise the TypeScript sources through tsx (a checkout after
// `npm ci`, no build step). RNNSCOPE_FROM_SOURCE=1 forces the sources.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

if (existsSync(built) && !process.env.RNNSCOPE_FROM_SOURCE) {
  await import(pathToFileURL(built).href);
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      "error: rnnscope has neither a build (dist/) nor tsx to run its sources; expected one of them, so run 'npm ci' or 'npm run build'.\n",
    );
    process.exit(1);
  }
  register();
  await import(pathToFileURL(source).href);
} else {
  process.stderr.write(
    "error: rnnscope's dist/ and src/ are both missing; expected an installed package, so reinstall rnnscope.\n",
  );
  process.exit(1);
}
