// The Content-Security-Policy of rnnscope's pages (the report, the live timeline, its waiting page).

import { createHash } from 'node:crypto';

/**
 * The page's Content-Security-Policy: only its own scripts run (each allowed by the SHA-256 of its
 * text, so markup that slipped into the page could not run script), nothing is fetched (no
 * connect, font or frame sources), images only from data:/blob: (the charts' PNG export). Inline
 * styles stay allowed: vega and vega-embed set them, and styles cannot run script. Vega's
 * expressions are evaluated by its interpreter (`ast: true` in the page script), so no
 * 'unsafe-eval' is needed.
 */
export function contentSecurityPolicy(scripts: string[], live = false): string {
  const hashes = scripts.map((js) => `'sha256-${createHash('sha256').update(js, 'utf8').digest('base64')}'`);
  return [
    // A page served live by `rnnscope watch` fetches its own updates from the server that sent it.
    "default-src 'none'",
    `script-src ${hashes.join(' ')}`,
    ...(live ? ["connect-src 'self'"] : []),
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
}
