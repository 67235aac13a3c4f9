// One thread of the gradient pool in the browser (web/pool-browser.ts starts it): the platform-neutral
// worker of src/engine/pool-worker.ts, with the task modules it runs bundled in (a bundled worker
// cannot import a URL). After the pool's first message it answers 'pool-ready', so the pool knows the
// thread runs before a gradient waits on it.

import { poolWorker } from '../src/engine/pool-worker.js';
import * as range from './pool-range.js';
import { RANGE_TASK } from './pool-range.js';

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};
const handle = poolWorker((m, transfer) => scope.postMessage(m, transfer ?? []), { [RANGE_TASK]: range });
scope.onmessage = (e) => {
  handle(e.data);
  if (e.data?.type === 'init') scope.postMessage({ type: 'pool-ready' });
};
