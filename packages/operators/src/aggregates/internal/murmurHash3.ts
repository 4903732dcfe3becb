/**
 * MurmurHash3 x86 128-bit (Austin Appleby, public domain) over the UTF-8 bytes of a string,
 * bit-compatible with the reference implementation (and so with e.g. Python's
 * `mmh3.hash128(s, seed, x64arch=False)`), using only 32-bit integer arithmetic.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

/** Reused UTF-8 buffer: hashing allocates nothing per call. */
let buf = new Uint8Array(256);
/** The four 32-bit words of the last hash. */
const out = new Uint32Array(4);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Writes the UTF-8 encoding of `s` (lone surrogates as U+FFFD, as TextEncoder) into `buf`. */
function utf8(s: string): number {
  if (buf.length < s.length * 3) buf = new Uint8Array(Math.max(s.length * 3, buf.length * 2));
  const b = buf;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[n++] = c;
    } else if (c < 0x800) {
      b[n++] = 0xc0 | (c >> 6);
      b[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          b[n++] = 0xf0 | (c >> 18);
          b[n++] = 0x80 | ((c >> 12) & 0x3f);
          b[n++] = 0x80 | ((c >> 6) & 0x3f);
          b[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      b[n++] = 0xe0 | (c >> 12);
      b[n++] = 0x80 | ((c >> 6) & 0x3f);
      b[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** Little-endian 32-bit word of `b` at `i`, using only bytes before `end` (for the tail). */
function word(b: Uint8Array, i: number, end: number): number {
  let k = 0;
  for (let j = Math.min(end, i + 4) - 1; j >= i; j--) k = (k << 8) | b[j]!;
  return k;
}

/**
 * Hashes the UTF-8 bytes of `s`. Returns a shared array holding the four 32-bit words
 * `h1..h4` (the reference's output order); read it before the next call.
 * @internal
 */
export function murmurHash3x86_128(s: string, seed = 0): Uint32Array {
  const len = utf8(s);
  const b = buf;
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  const blocks = len & ~15;
  for (let i = 0; i < blocks; i += 16) {
    let k1 = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    let k2 = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
    let k3 = b[i + 8]! | (b[i + 9]! << 8) | (b[i + 10]! << 16) | (b[i + 11]! << 24);
    let k4 = b[i + 12]! | (b[i + 13]! << 8) | (b[i + 14]! << 16) | (b[i + 15]! << 24);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const rest = len - blocks;
  if (rest > 12) h4 ^= Math.imul(rotl(Math.imul(word(b, blocks + 12, len), C4), 18), C1);
  if (rest > 8) h3 ^= Math.imul(rotl(Math.imul(word(b, blocks + 8, len), C3), 17), C4);
  if (rest > 4) h2 ^= Math.imul(rotl(Math.imul(word(b, blocks + 4, len), C2), 16), C3);
  if (rest > 0) h1 ^= Math.imul(rotl(Math.imul(word(b, blocks, len), C1), 15), C2);

  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  out[0] = h1;
  out[1] = (h2 + h1) | 0;
  out[2] = (h3 + h1) | 0;
  out[3] = (h4 + h1) | 0;
  return out;
}
