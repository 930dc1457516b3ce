/** Byte-wise equality of two byte arrays (meta, keys, labels). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `buf` when it has room for `need` more bytes after the `used` ones, else a buffer at least twice as
 * large holding its first `used` bytes (the growth step of the hand-written encoders).
 */
export function withRoom(buf: Uint8Array, used: number, need: number): Uint8Array {
  if (used + need <= buf.length) return buf;
  let size = Math.max(1, buf.length) * 2;
  while (size < used + need) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, used));
  return next;
}
