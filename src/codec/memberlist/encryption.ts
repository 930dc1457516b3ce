/**
 * memberlist's security.go: AES-GCM with a 12-byte random nonce and a 16-byte tag, the key length
 * choosing AES-128/192/256 (reference §2.5, §13.5).
 *
 *   [vsn u8][nonce 12][GCM(plaintext) ‖ tag 16]
 *
 * Version 0 PKCS7-pads the plaintext to a multiple of 16 first (always adding 1..16 bytes; memberlist
 * protocol version 1 sends it); version 1 does not pad (protocol version 2 and later). Both are read.
 * The additional data is the label for packets, and [10][u32 len] ‖ label for stream frames.
 */
import { createDecipheriv, randomFillSync } from 'node:crypto';
import type { InstalledKey } from '../../security/keyring.js';
import { sealInto } from '../../security/aead.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes version 1 adds: version, nonce and tag. */
export const ENCRYPT_V1_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;
/** The most bytes version 0 adds (a full block of padding). */
export const ENCRYPT_V0_MAX_OVERHEAD = ENCRYPT_V1_OVERHEAD + 16;

export type EncryptionVersion = 0 | 1;

/** memberlist encryptedLength: the sealed size of `n` plaintext bytes. */
export function encryptedLength(vsn: EncryptionVersion, n: number): number {
  return vsn === 0 ? ENCRYPT_V1_OVERHEAD + n + (16 - (n % 16)) : ENCRYPT_V1_OVERHEAD + n;
}

/** 12 random bytes; tests replace it to reproduce the reference vectors (which use 01..0c). */
export type NonceSource = (nonce: Uint8Array) => void;
const randomNonce: NonceSource = (nonce) => {
  randomFillSync(nonce);
};

/** memberlist encryptPayload. */
export function encryptPayload(
  vsn: EncryptionVersion,
  key: InstalledKey,
  msg: Uint8Array,
  aad: Uint8Array,
  nonceSource: NonceSource = randomNonce,
): Uint8Array {
  let plain = msg;
  if (vsn === 0) {
    const pad = 16 - (msg.length % 16);
    plain = new Uint8Array(msg.length + pad);
    plain.set(msg);
    plain.fill(pad, msg.length);
  }
  const out = new Uint8Array(1 + NONCE_BYTES + plain.length + TAG_BYTES);
  out[0] = vsn;
  nonceSource(out.subarray(1, 1 + NONCE_BYTES));
  return sealInto(key, out, 1, plain, aad);
}

export type DecryptResult = { ok: true; plaintext: Uint8Array } | { ok: false; detail: string };

/**
 * memberlist decryptPayload: checks the version and the minimum length, then tries every key, the
 * primary first. Version 0 padding is removed by the value of the last byte, validated here (Go does
 * not validate it; a bad value there only means a peer bug, and we refuse rather than slice wrongly).
 */
export function decryptPayload(keys: readonly InstalledKey[], buf: Uint8Array, aad: Uint8Array): DecryptResult {
  if (keys.length === 0) return { ok: false, detail: 'no installed keys' };
  if (buf.length === 0) return { ok: false, detail: 'cannot decrypt empty payload' };
  const vsn = buf[0] as number;
  if (vsn > 1) return { ok: false, detail: `unsupported encryption version ${vsn}` };
  if (buf.length < encryptedLength(vsn as EncryptionVersion, 0)) return { ok: false, detail: 'payload is too small to decrypt' };
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  for (const key of keys) {
    let plain: Uint8Array;
    try {
      const decipher = createDecipheriv(key.cipher, key.key, nonce, { authTagLength: TAG_BYTES });
      if (aad.length > 0) decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      const head = decipher.update(body);
      const tail = decipher.final();
      plain = tail.length === 0 ? new Uint8Array(head.buffer, head.byteOffset, head.length) : Buffer.concat([head, tail]);
    } catch {
      continue;
    }
    if (vsn === 0) {
      const pad = plain[plain.length - 1] ?? 0;
      if (pad < 1 || pad > 16 || pad > plain.length) return { ok: false, detail: 'bad padding' };
      plain = plain.subarray(0, plain.length - pad);
    }
    return { ok: true, plaintext: plain };
  }
  return { ok: false, detail: 'no installed keys could decrypt the message' };
}
