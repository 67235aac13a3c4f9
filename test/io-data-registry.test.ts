// The data format registry (src/io/data.ts): which format reads a file, content first, the name
// only where the content leaves it open; what the page asks instead of sniffing for itself.
import { describe, expect, it } from 'vitest';
import { dataFormatOf, dataFormats } from '../src/io/data.js';
import { encodeNpy, encodeNpz } from '../src/io/npz-write.js';

const npy = encodeNpy({ shape: [2], data: new Float32Array([1, 2]) });
const text = (s: string) => new TextEncoder().encode(s);
const of = (bytes: Uint8Array, name: string) => dataFormatOf(bytes, name).name;

describe('data format registry', () => {
  it('every entry has the shape of a model format: name, match, read', () => {
    for (const f of dataFormats) {
      expect(typeof f.name).toBe('string');
      expect(typeof f.match).toBe('function');
      expect(typeof f.read).toBe('function');
    }
  });

  it('content decides: an .npy named .npz, a zip named .npy, JSON named .csv', () => {
    expect(of(npy, 'x.npz')).toBe('npy');
    const zip = encodeNpz(new Map([['x', { shape: [2], data: new Float32Array([1, 2]) }]]));
    expect(of(zip, 'x.npy')).toBe('npz');
    expect(of(text('[[1, 2]]'), 'x.csv')).toBe('json');
  });

  it('the name decides what content leaves open: text named .npy is read (and refused) as .npy', () => {
    expect(of(text('1,2\n'), 'x.npy')).toBe('npy');
    expect(of(text('1,2\n'), 'x.npz')).toBe('npz');
    expect(of(text('1,2\n'), 'x.txt')).toBe('csv');
  });

  it('refusals are entries too: HDF5, pickles, other binaries', () => {
    expect(of(new Uint8Array([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'x.csv')).toBe('hdf5 (refused)');
    expect(of(new Uint8Array([0x80, 0x04, 0x95]), 'x.pkl')).toBe('pickle (refused)');
    expect(of(new Uint8Array([1, 0, 2]), 'x.bin')).toBe('binary (refused)');
    expect(() =>
      dataFormatOf(new Uint8Array([0x80, 0x04]), 'x.pkl').read(new Uint8Array([0x80, 0x04]), 'x.pkl'),
    ).toThrow(/pickle/);
  });
});
