// The terminal's line about the chart images: a chart left out for the same reason in several runs or layers is
// named once, with every layer or run it applies to (the demo printed the SimpleRNN's gate chart twice).

import { describe, expect, test } from 'vitest';
import { chartsLine, type WriteReportResult } from '../src/report/write.js';

const skip = (title: string, layer: string | null, about: string, reason: string) =>
  ({ chart: 'gates', run: 0, layer, about, reason, title }) as WriteReportResult['skipped'][number];

describe('chartsLine', () => {
  test('groups the charts left out by chart and reason', () => {
    const r: WriteReportResult = {
      files: [],
      charts: [],
      warnings: [],
      skipped: [
        skip('Gate activations', 'rnn', 'A', 'a SimpleRNN has no gates.'),
        skip('Gate activations', 'rnn', 'B', 'a SimpleRNN has no gates.'),
        skip('Batch gradient norms', null, 'A', 'there is one batch.'),
        skip('Batch gradient norms', null, 'B', 'there is one batch.'),
      ],
    };
    expect(chartsLine(r, 'out')).toBe(
      'Wrote 0 charts (SVG) under out/charts, listed in out/charts/index.json; left out, having nothing to show: Gate activations (rnn, in 2 runs): a SimpleRNN has no gates; Batch gradient norms (A, B): there is one batch.',
    );
  });
  test('nothing left out', () => {
    expect(chartsLine({ files: [], charts: [], warnings: [], skipped: [] }, 'o')).toBe(
      'Wrote 0 charts (SVG) under o/charts, listed in o/charts/index.json.',
    );
  });
});
