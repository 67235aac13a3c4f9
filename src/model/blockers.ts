// Every layer that stops a model from being rebuilt, found in one pass before the
// graph is built, so that a refusal names all of them at once (a user replacing
// one blocker at a time would otherwise meet the next only after re-saving).
// Each layer entry of the config, nested models included, is parsed on its own;
// when two or more refuse, one ModelError lists the first clause of each.

import { ModelError } from './errors.js';
import type { BuildContext } from './config-reader.js';
import { isRecord } from './keras-format.js';
import { parseLayer } from './layers-config.js';
import { msg } from './messages.js';

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

function layerList(cfg: unknown): unknown[] {
  if (Array.isArray(cfg)) return cfg;
  if (isRecord(cfg) && Array.isArray(cfg['layers'])) return cfg['layers'];
  return [];
}

/** Throws one ModelError naming every refused layer when there are two or more; a single one is left to the build (its
 * own full message). */
export function checkBlockers(modelConfig: unknown, ctx: BuildContext): void {
  const problems: string[] = [];
  const quiet: BuildContext = { ...ctx, warnings: [] };
  const visit = (entries: unknown[], prefix: string, depth: number): void => {
    if (depth > 64) return;
    for (const e of entries) {
      if (!isRecord(e) || typeof e['class_name'] !== 'string') continue;
      const cls = e['class_name'];
      const cfg = isRecord(e['config']) ? e['config'] : {};
      const name = String(e['name'] ?? cfg['name'] ?? cls.toLowerCase());
      if (MODEL_CLASSES.has(cls)) {
        visit(layerList(e['config']), `${prefix}${name}/`, depth + 1);
        continue;
      }
      try {
        parseLayer(
          prefix + name,
          cls,
          cfg,
          quiet,
          typeof e['registered_name'] === 'string' ? e['registered_name'] : null,
        );
      } catch (err) {
        if (!(err instanceof ModelError)) continue; // a damaged entry: the build reports it
        problems.push(err.message.split('; ')[0]!);
      }
    }
  };
  if (Array.isArray(modelConfig)) visit(modelConfig, '', 0);
  else if (isRecord(modelConfig) && MODEL_CLASSES.has(String(modelConfig['class_name'])))
    visit(layerList(modelConfig['config']), '', 0);
  if (problems.length >= 2) throw new ModelError(msg.blockers(problems));
}
