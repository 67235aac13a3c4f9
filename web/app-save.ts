// Saving what the page made: a download of a Blob, named, with no server involved.

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has taken the blob by the time the click returns; the URL is only a handle.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, name: string, type: string): void {
  download(new Blob([text], { type: `${type};charset=utf-8` }), name);
}

export function saveBytes(bytes: Uint8Array, name: string): void {
  download(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), name);
}

export interface ChartView {
  toSVG(): Promise<string>;
  toImageURL(type: 'png', scale?: number): Promise<string>;
}

/** A chart as drawn in the report (its current layer, run and scale): SVG text, or a PNG at twice its size. */
export async function chartFile(view: ChartView, kind: 'svg' | 'png', stem: string): Promise<void> {
  if (kind === 'svg') return saveText(await view.toSVG(), `${stem}.svg`, 'image/svg+xml');
  const dataUrl = await view.toImageURL('png', 2);
  const bin = atob(dataUrl.slice(dataUrl.indexOf(',') + 1));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  download(new Blob([bytes], { type: 'image/png' }), `${stem}.png`);
}
