/**
 * The AES-GCM keyring (memberlist's keyring.go): the keys this node can decrypt with, one of them the
 * primary that encrypts everything we send. Decryption tries every installed key, primary first, so a
 * key rotation on a live cluster never drops traffic:
 *
 *   1. `install(newKey)` on every node: everyone can now decrypt both keys, still sends with the old.
 *   2. `use(newKey)` on every node: everyone sends with the new key; nodes not yet switched still
 *      decrypt it (step 1), and the switched ones still decrypt the old.
 *   3. `remove(oldKey)` on every node.
 *
 * Each step must have reached every node before the next one starts. Keys are copied on the way in
 * and on the way out, so a caller's buffer never aliases the ring.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { bytesEqual } from '../util/bytes.js';

/** Valid key lengths in bytes: AES-128, AES-192, AES-256. */
export const KEY_SIZES: readonly number[] = Object.freeze([16, 24, 32]);

/** One installed key: its bytes (private copy) and a KeyObject ready for node:crypto. */
export interface InstalledKey {
  readonly bytes: Uint8Array;
  readonly key: KeyObject;
  /** 'aes-128-gcm', 'aes-192-gcm' or 'aes-256-gcm'. */
  readonly cipher: 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
}

/** Throws InvalidArgumentError unless `key` is a Uint8Array of 16, 24 or 32 bytes (memberlist ValidateKey). */
export function validateKey(key: unknown, what = 'key'): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what} must be a Uint8Array of 16, 24 or 32 bytes (AES-128/192/256)`);
  }
  if (!KEY_SIZES.includes(key.length)) {
    throw new InvalidArgumentError(`${what} is ${key.length} bytes; an AES key is 16, 24 or 32 bytes (AES-128/192/256)`);
  }
}


function makeKey(bytes: Uint8Array): InstalledKey {
  const copy = new Uint8Array(bytes);
  const cipher = copy.length === 16 ? 'aes-128-gcm' : copy.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
  return { bytes: copy, key: createSecretKey(copy), cipher };
}

export class Keyring {
  /** Installed keys, the primary at index 0. */
  #keys: InstalledKey[] = [];
  /** Bumped on every change, so a cache keyed on it can tell the ring changed. */
  #version = 0;
  readonly #listeners: (() => void)[] = [];

  /**
   * @param keys keys to install (each 16, 24 or 32 bytes).
   * @param primary the key to encrypt with; installed if not among `keys`. Default: the first of `keys`.
   *   An empty ring (no keys, no primary) is allowed; the first key installed becomes the primary.
   * @throws InvalidArgumentError for a key of the wrong type or size.
   */
  constructor(keys: readonly Uint8Array[] = [], primary?: Uint8Array) {
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys must be an array of Uint8Array');
    keys.forEach((k, i) => validateKey(k, `keys[${i}]`));
    if (primary !== undefined) validateKey(primary, 'primary');
    const first = primary ?? keys[0];
    if (first !== undefined) this.#keys.push(makeKey(first));
    for (const k of keys) this.install(k);
    this.#version = 0;
  }

  /** How many keys are installed. Encryption is on when there is at least one. */
  get size(): number {
    return this.#keys.length;
  }

  /** Increases on every install, use or remove that changed the ring. */
  get version(): number {
    return this.#version;
  }

  /** A copy of the primary key, or undefined for an empty ring. */
  get primary(): Uint8Array | undefined {
    const p = this.#keys[0];
    return p === undefined ? undefined : new Uint8Array(p.bytes);
  }

  /**
   * Installs a key for decryption. Installing a key that is already there does nothing; the first key
   * of an empty ring becomes the primary (memberlist AddKey).
   */
  install(key: Uint8Array): void {
    validateKey(key);
    if (this.#indexOf(key) >= 0) return;
    this.#keys.push(makeKey(key));
    this.#changed();
  }

  /** Makes an installed key the primary: from now on everything we send is encrypted with it. */
  use(key: Uint8Array): void {
    validateKey(key);
    const i = this.#indexOf(key);
    if (i < 0) throw new InvalidArgumentError('the key is not installed: install it on every node before using it');
    if (i === 0) return;
    const [k] = this.#keys.splice(i, 1);
    this.#keys.unshift(k as InstalledKey);
    this.#changed();
  }

  /** Removes a key. Removing the primary is refused; removing a key that is not installed does nothing. */
  remove(key: Uint8Array): void {
    validateKey(key);
    const i = this.#indexOf(key);
    if (i === 0) throw new InvalidArgumentError('cannot remove the primary key: use another key first');
    if (i < 0) return;
    this.#keys.splice(i, 1);
    this.#changed();
  }

  /** Copies of every installed key, the primary first. */
  list(): Uint8Array[] {
    return this.#keys.map((k) => new Uint8Array(k.bytes));
  }

  /** Whether `key` is installed. */
  has(key: Uint8Array): boolean {
    return key instanceof Uint8Array && this.#indexOf(key) >= 0;
  }

  /** The installed keys for the cipher, primary first. Internal: the codec's view, not a copy. */
  installed(): readonly InstalledKey[] {
    return this.#keys;
  }

  /**
   * Calls `listener` after every change. Internal: the isolated protocol thread uses it to mirror
   * its keyring (changed by a cluster-wide rotation, say) into the host's node.keyring.
   */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Replaces every key (primary first). Internal: how the host's mirror adopts the protocol thread's ring. */
  replaceAll(keys: readonly Uint8Array[]): void {
    keys.forEach((k, i) => validateKey(k, `keys[${i}]`));
    this.#keys = keys.map(makeKey);
    this.#changed();
  }

  #changed(): void {
    this.#version++;
    for (const l of this.#listeners) l();
  }

  #indexOf(key: Uint8Array): number {
    return this.#keys.findIndex((k) => bytesEqual(k.bytes, key));
  }
}
