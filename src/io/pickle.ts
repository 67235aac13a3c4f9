// A reader for the Python pickles numpy writes for object arrays, without executing anything: a
// tiny stack machine understands only the opcodes numpy emits for a dict of ndarrays (protocols
// 2-4) and only the globals numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype;
// anything else is refused through `bad` (docs/formats.md, 'Keras 3 .npz weights').

/** An ndarray as the pickle rebuilds it: shape, dtype descriptor ('<f4') and raw C-order bytes. */
export interface NdObj {
  t: 'nd';
  shape: number[];
  descr: string;
  raw: Uint8Array | null;
}

const GLOBALS = new Set([
  'numpy.core.multiarray _reconstruct',
  'numpy._core.multiarray _reconstruct',
  'numpy ndarray',
  'numpy dtype',
]);

/** Interpret a numpy object-array pickle without executing anything (see above). */
export function unpickle(b: Uint8Array, bad: (w: string) => never): unknown {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo: unknown[] = [];
  let p = 0;
  const take = (n: number): Uint8Array =>
    p + n <= b.length ? b.subarray((p += n) - n, p) : bad('has a truncated pickle');
  const u = (n: number): number => {
    const x = take(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + x[i];
    return v;
  };
  const line = (): string => {
    const e = b.indexOf(0x0a, p);
    if (e < 0) bad('has a truncated pickle');
    const s = dec.decode(b.subarray(p, e));
    p = e + 1;
    return s;
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) bad('has an unbalanced pickle');
    return stack.splice(m!);
  };
  const pop = (): unknown => (stack.length ? stack.pop() : bad('has an unbalanced pickle'));
  const global = (name: string) => {
    if (!GLOBALS.has(name)) bad(`pickles ${name}`);
    stack.push({ t: 'global', name });
  };
  for (let ops = 0; p < b.length; ops++) {
    if (ops > 4 * b.length + 100) bad('has a pickle that does not end');
    const op = b[p++];
    switch (op) {
      case 0x80:
        p++;
        break; // PROTO
      case 0x95:
        p += 8;
        break; // FRAME
      case 0x63:
        global(`${line()} ${line()}`);
        break; // GLOBAL
      case 0x93: {
        const n = pop();
        global(`${pop()} ${n}`);
        break;
      } // STACK_GLOBAL
      case 0x71:
        memo[u(1)] = stack[stack.length - 1];
        break; // BINPUT
      case 0x72:
        memo[u(4)] = stack[stack.length - 1];
        break; // LONG_BINPUT
      case 0x94:
        memo.push(stack[stack.length - 1]);
        break; // MEMOIZE
      case 0x68:
        stack.push(memo[u(1)]);
        break; // BINGET
      case 0x6a:
        stack.push(memo[u(4)]);
        break; // LONG_BINGET
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const y = pop();
        stack.push([pop(), y]);
        break;
      }
      case 0x87: {
        const z = pop();
        const y = pop();
        stack.push([pop(), y, z]);
        break;
      }
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x61: {
        const v = pop();
        (stack[stack.length - 1] as unknown[]).push(v);
        break;
      } // APPEND
      case 0x65: {
        const vs = popMark();
        const l = stack[stack.length - 1] as unknown[];
        for (const v of vs) l.push(v);
        break;
      } // APPENDS
      case 0x73: {
        const v = pop();
        const k = pop();
        (stack[stack.length - 1] as Map<unknown, unknown>).set(k, v);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        const d = stack[stack.length - 1] as Map<unknown, unknown>;
        for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
        break;
      }
      case 0x4a:
        stack.push(dv.getInt32((p += 4) - 4, true));
        break; // BININT
      case 0x4b:
        stack.push(u(1));
        break; // BININT1
      case 0x4d:
        stack.push(u(2));
        break; // BININT2
      case 0x8a: {
        const n = u(1);
        let v = 0;
        const x = take(n);
        for (let i = n - 1; i >= 0; i--) v = v * 256 + x[i];
        stack.push(v);
        break;
      } // LONG1 (non-negative)
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x43:
        stack.push(take(u(1)));
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(take(u(4)));
        break; // BINBYTES
      case 0x8e:
        stack.push(take(u(8)));
        break; // BINBYTES8
      case 0x8c:
        stack.push(dec.decode(take(u(1))));
        break; // SHORT_BINUNICODE
      case 0x58:
        stack.push(dec.decode(take(u(4))));
        break; // BINUNICODE
      case 0x8d:
        stack.push(dec.decode(take(u(8))));
        break; // BINUNICODE8
      case 0x52: {
        // REDUCE
        const args = pop() as unknown[];
        const f = pop() as { t?: string; name?: string };
        if (f?.t !== 'global' || !Array.isArray(args)) bad('has a pickle call it does not understand');
        stack.push(
          f.name === 'numpy dtype'
            ? { t: 'dtype', descr: String(args[0]) }
            : { t: 'nd', shape: [], descr: '', raw: null },
        );
        break;
      }
      case 0x62: {
        // BUILD
        const st = pop() as unknown[];
        const o = stack[stack.length - 1] as Record<string, unknown>;
        if (!Array.isArray(st) || !o || typeof o !== 'object') bad('has a pickle state it does not understand');
        if (o.t === 'dtype' && typeof st[1] === 'string') o.descr = (st[1] === '|' ? '' : st[1]) + String(o.descr);
        else if (o.t === 'nd') {
          o.shape = st[1];
          o.descr = (st[2] as { descr: string }).descr;
          o.raw = st[4];
        }
        break;
      }
      case 0x2e:
        return pop(); // STOP
      default:
        bad(`has pickle opcode 0x${op.toString(16)}, which Keras does not write`);
    }
  }
  return bad('has a pickle without STOP');
}
