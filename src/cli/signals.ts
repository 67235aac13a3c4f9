// Ctrl-C (SIGINT) or SIGTERM while results are being written: remove this run's temporary files
// and locks, say so, and exit 128 + signal number. Earlier results are untouched, because files
// only replace them by a rename at the very end. The handler is installed only around writing:
// during the computation the default action (exit at once) keeps Ctrl-C immediate, and a lock left
// behind by that exit is recognised as stale by the next run.

import { cleanupSync } from '../io/safe-write.js';
import type { Io } from './output.js';

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export async function whileWriting<T>(io: Io, work: () => Promise<T>): Promise<T> {
  const handlers = (Object.keys(CODES) as (keyof typeof CODES)[]).map((sig) => {
    const h = () => {
      cleanupSync();
      io.stderr.write(
        `Interrupted (${sig}) while writing; files not yet complete were not written, and earlier results there were left as they were.\n`,
      );
      process.exit(CODES[sig]);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await work();
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}
