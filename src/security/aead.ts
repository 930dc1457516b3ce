/**
 * AES-GCM sealing of one packet or stream frame (memberlist security.go, version 1: no padding):
 *
 *   [vsn u8 = 1][nonce 12][ciphertext][tag 16]        overhead 29 bytes
 *
 * The nonce is 12 random bytes from node:crypto per message; the key length picks AES-128/192/256.
 * Decryption tries every installed key, the primary first, and never throws on bad input: it returns
 * a result saying why it failed.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { Keyring, type InstalledKey } from './keyring.js';

export const AEAD_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes sealing adds: version, nonce and tag. */
export const AEAD_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

export type OpenFailure = 'too-short' | 'bad-version' | 'no-keys' | 'auth-failed';

export type OpenResult =
  | { ok: true; plaintext: Uint8Array; /** Index in the ring (0 = primary) of the key that worked. */ keyIndex: number }
  | { ok: false; reason: OpenFailure };

const EMPTY = new Uint8Array(0);

/**
 * Seals `plaintext` with `key`; `aad` is authenticated but not encrypted. `prefix` bytes are left
 * free at the front of the returned buffer for the caller's header (the codec's frame kind), so the
 * packet is built in one allocation.
 */
export function seal(key: InstalledKey, plaintext: Uint8Array, aad: Uint8Array = EMPTY, prefix = 0): Uint8Array {
  const out = new Uint8Array(prefix + AEAD_OVERHEAD + plaintext.length);
  out[prefix] = AEAD_VERSION;
  randomFillSync(out.subarray(prefix + 1, prefix + 1 + NONCE_BYTES));
  return sealInto(key, out, prefix + 1, plaintext, aad);
}

/**
 * The GCM step both wire formats share: encrypts `plaintext` with the nonce already written at
 * `out[nonceAt..]`, writing ciphertext and tag right after it; `out` must have room for them.
 */
export function sealInto(key: InstalledKey, out: Uint8Array, nonceAt: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = out.subarray(nonceAt, nonceAt + NONCE_BYTES);
  const cipher = createCipheriv(key.cipher, key.key, nonce, { authTagLength: TAG_BYTES });
  if (aad.length > 0) cipher.setAAD(aad);
  let pos = nonceAt + NONCE_BYTES;
  const body = cipher.update(plaintext);
  out.set(body, pos);
  pos += body.length;
  const rest = cipher.final();
  out.set(rest, pos);
  pos += rest.length;
  out.set(cipher.getAuthTag(), pos);
  return out;
}

/** Opens a sealed message with one key; undefined when it does not authenticate. Never throws. */
export function openWith(key: InstalledKey, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array | undefined {
  if (sealed.length < AEAD_OVERHEAD || sealed[0] !== AEAD_VERSION) return undefined;
  const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(key.cipher, key.key, nonce, { authTagLength: TAG_BYTES });
    if (aad.length > 0) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const head = decipher.update(body);
    const tail = decipher.final(); // throws when the tag does not match
    if (tail.length === 0) return head;
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch {
    return undefined;
  }
}

/** Opens a sealed message with every key of the ring, the primary first. Never throws. */
export function open(keyring: Keyring | readonly InstalledKey[], sealed: Uint8Array, aad: Uint8Array = EMPTY): OpenResult {
  const keys = keyring instanceof Keyring ? keyring.installed() : keyring;
  if (keys.length === 0) return { ok: false, reason: 'no-keys' };
  if (sealed.length < AEAD_OVERHEAD) return { ok: false, reason: 'too-short' };
  if (sealed[0] !== AEAD_VERSION) return { ok: false, reason: 'bad-version' };
  for (let i = 0; i < keys.length; i++) {
    const plaintext = openWith(keys[i] as InstalledKey, sealed, aad);
    if (plaintext !== undefined) return { ok: true, plaintext, keyIndex: i };
  }
  return { ok: false, reason: 'auth-failed' };
}

/** Seals with the primary key of `keyring`; undefined when the ring is empty. */
export function sealPrimary(keyring: Keyring, plaintext: Uint8Array, aad: Uint8Array = EMPTY, prefix = 0): Uint8Array | undefined {
  const primary = keyring.installed()[0];
  return primary === undefined ? undefined : seal(primary, plaintext, aad, prefix);
}
