/**
 * CRC-32 (IEEE 802.3, the polynomial of Go's crc32.ChecksumIEEE and of zlib): the integrity check on
 * traffic that is not encrypted. Node 20.15+ has a native zlib.crc32; older runtimes get a table.
 */
import * as zlib from 'node:zlib';

type Crc32Fn = (data: Uint8Array, value?: number) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The portable implementation (exported for tests, which compare it with the native one). */
export function crc32Table(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = (table[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: Crc32Fn }).crc32;

/** CRC-32 IEEE of `data`, continuing from `value` (the CRC of the bytes before it). Unsigned. */
export const crc32: Crc32Fn = typeof native === 'function' ? (data, value = 0) => native(data, value) >>> 0 : crc32Table;

/** Whether the native zlib.crc32 is in use. */
export const nativeCrc32 = typeof native === 'function';
