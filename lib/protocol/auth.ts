/**
 * Passphrase challenge–response for the handshake. Each side proves it knows
 * the passphrase with an HMAC-SHA256 over both nonces; the passphrase itself
 * never crosses the wire. Uses Web Crypto only, so it runs in browsers too.
 */

import { NONCE_BYTES } from "./constants.ts";

const CLIENT_LABEL = new TextEncoder().encode("es/1 client proof");
const SERVER_LABEL = new TextEncoder().encode("es/1 server proof");

/** A fresh random nonce for one handshake. */
export function makeNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

function importKey(passphrase: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(passphrase),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/** The HMAC input: the label says which side proves, so one proof never passes as the other. */
function proofInput(
  label: Uint8Array,
  first: Uint8Array,
  second: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const input = new Uint8Array(label.length + first.length + second.length);
  input.set(label, 0);
  input.set(first, label.length);
  input.set(second, label.length + first.length);
  return input;
}

async function sign(
  passphrase: string,
  label: Uint8Array,
  first: Uint8Array,
  second: Uint8Array,
): Promise<Uint8Array> {
  const key = await importKey(passphrase);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, proofInput(label, first, second)));
}

/** Web Crypto's HMAC verify compares in constant time. */
async function verify(
  passphrase: string,
  label: Uint8Array,
  first: Uint8Array,
  second: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  const key = await importKey(passphrase);
  return crypto.subtle.verify("HMAC", key, proof.slice(), proofInput(label, first, second));
}

/** The client's proof: HMAC(passphrase, label ‖ serverNonce ‖ clientNonce). */
export function clientProof(
  passphrase: string,
  serverNonce: Uint8Array,
  clientNonce: Uint8Array,
): Promise<Uint8Array> {
  return sign(passphrase, CLIENT_LABEL, serverNonce, clientNonce);
}

/** The server's proof: HMAC(passphrase, label ‖ clientNonce ‖ serverNonce). */
export function serverProof(
  passphrase: string,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
): Promise<Uint8Array> {
  return sign(passphrase, SERVER_LABEL, clientNonce, serverNonce);
}

/** Checks a client's proof in constant time. */
export function verifyClientProof(
  passphrase: string,
  serverNonce: Uint8Array,
  clientNonce: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  return verify(passphrase, CLIENT_LABEL, serverNonce, clientNonce, proof);
}

/** Checks the server's proof in constant time. */
export function verifyServerProof(
  passphrase: string,
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
  proof: Uint8Array,
): Promise<boolean> {
  return verify(passphrase, SERVER_LABEL, clientNonce, serverNonce, proof);
}
