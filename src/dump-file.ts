// The analysis dump (.npz) streamed to a file (Node only): memory stays one batch of rows, whatever
// the dump's size.
//
//   NpzDumpFile(path) ─► addRun(entries) per analysis ─► sinks write rows at their final offsets
//   (any thread: openDumpSink(run) opens the same file) ─► addPieces(sink.pieces) ─► finish()
//
// Each run's arrays are laid out at the end of the file when the run starts (layoutNpz, with every
// size known from the shapes); finish() checks that every byte of every member was written once,
// combines the pieces' CRC-32s, writes the local headers and the central directory, and flushes.
// The caller owns the path: a temporary name beside the target, renamed into place afterwards.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { fsError } from './io/fs-errors.js';
import { centralDirectory, crc32, crc32Combine, layoutNpz, localHeader, type NpzMember } from './io/npz-write.js';
import type { DumpEntry, DumpSink } from './analysis/dump.js';

/** Bytes [offset, offset + length) of member `member`'s data, written with this CRC-32. */
export interface DumpPiece {
  member: number;
  offset: number;
  length: number;
  crc: number;
}

/** What a sink needs to write one run's arrays (plain data: it crosses to worker threads). */
export interface DumpRun {
  path: string;
  /** The path as the user gave it, for messages. */
  shown: string;
  /** Name prefix of this run's arrays in the archive ('' or 'run<i>/'). */
  prefix: string;
  members: {
    index: number;
    name: string;
    dtype: DumpEntry['dtype'];
    dataOffset: number;
    dataBytes: number;
    rowBytes: number;
  }[];
}

const ROLE = 'The --dump file';

function writeAll(fd: number, bytes: Uint8Array, position: number, shown: string): void {
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  } catch (e) {
    throw fsError(e, { file: shown, role: ROLE, action: 'write', expected: 'a writable place with room for the dump' });
  }
}

export class NpzDumpFile {
  private readonly fd: number;
  private readonly members: NpzMember[] = [];
  private readonly pieces: DumpPiece[] = [];
  private end = 0;
  private runs = 0;
  private closed = false;

  /** Creates `path` (which must not exist); `prefixRuns` puts each run's arrays under run<i>/. */
  constructor(
    readonly path: string,
    readonly shown: string,
    private readonly prefixRuns: boolean,
  ) {
    try {
      this.fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      throw fsError(e, { file: shown, role: ROLE, action: 'write', expected: 'a writable place' });
    }
  }

  /** Lays out one analysis run's arrays after everything so far. */
  addRun(entries: DumpEntry[]): DumpRun {
    const prefix = this.prefixRuns ? `run${this.runs}/` : '';
    this.runs++;
    const { members, end } = layoutNpz(
      entries.map((e) => ({ ...e, name: prefix + e.name })),
      this.end,
    );
    const base = this.members.length;
    this.members.push(...members);
    this.end = end;
    return {
      path: this.path,
      shown: this.shown,
      prefix,
      members: members.map((m, i) => ({
        index: base + i,
        name: m.name,
        dtype: m.dtype,
        dataOffset: m.dataOffset,
        dataBytes: m.dataBytes,
        rowBytes: m.rowBytes,
      })),
    };
  }

  addPieces(pieces: DumpPiece[]): void {
    for (const p of pieces) this.pieces.push(p);
  }

  /** Headers, central directory, flush, close. Throws if a member was not written exactly once. */
  finish(): void {
    const byMember = this.members.map(() => [] as DumpPiece[]);
    for (const p of this.pieces) byMember[p.member]!.push(p);
    const crcs = this.members.map((m, i) => {
      const ps = byMember[i]!.sort((a, b) => a.offset - b.offset);
      let at = 0,
        crc = crc32(m.npy);
      for (const p of ps) {
        if (p.offset !== at) break;
        crc = crc32Combine(crc, p.crc, p.length);
        at += p.length;
      }
      if (at !== m.dataBytes)
        throw new Error(
          `Internal: dump member ${m.name} has ${at} of ${m.dataBytes} bytes written in order (pieces at ${ps.map((p) => p.offset).join(', ')}).`,
        );
      return crc;
    });
    this.members.forEach((m, i) => writeAll(this.fd, localHeader(m, crcs[i]!), m.headerOffset, this.shown));
    writeAll(this.fd, centralDirectory(this.members, crcs, this.end), this.end, this.shown);
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw fsError(e, { file: this.shown, role: ROLE, action: 'write', expected: 'a writable place' });
    }
    this.close();
  }

  /** Closes the file (the caller removes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** A sink writing one run's rows straight to the file; keeps the CRC of each piece for finish(). */
export class FileDumpSink implements DumpSink {
  readonly pieces: DumpPiece[] = [];
  private readonly fd: number;
  private readonly byName: Map<string, DumpRun['members'][number]>;

  constructor(private readonly run: DumpRun) {
    try {
      this.fd = openSync(run.path, 'r+');
    } catch (e) {
      throw fsError(e, { file: run.shown, role: ROLE, action: 'write', expected: 'a writable place' });
    }
    this.byName = new Map(run.members.map((m) => [m.name, m]));
  }

  write(name: string, firstRow: number, _shape: number[], data: Float32Array | Float64Array): void {
    const m = this.byName.get(this.run.prefix + name);
    const dtype = data instanceof Float32Array ? 'float32' : 'float64';
    const offset = m ? firstRow * m.rowBytes : 0;
    if (!m || m.dtype !== dtype || offset + data.byteLength > m.dataBytes) {
      throw new Error(
        `Internal: the dump has no room for ${dtype} rows ${firstRow}.. of ${name} (${m ? `${m.dtype}, ${m.dataBytes} bytes` : 'no such array'}).`,
      );
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    writeAll(this.fd, bytes, m.dataOffset + offset, this.run.shown);
    this.pieces.push({ member: m.index, offset, length: bytes.length, crc: crc32(bytes) });
  }

  close(): void {
    closeSync(this.fd);
  }
}
