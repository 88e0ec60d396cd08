import type { Schemas } from "../api/client";

/** What a ticket's code admits, read from it (the layout of `GET /sessions/{id}/checkin-kit`). */
export interface Admission {
  ticket: string;
  session: string;
  sector: string;
  /** The seat, `B-7`, for a numbered sector. */
  seat: string | null;
  issuedAt: Date;
  keyId: string;
}

export type Kit = Schemas["CheckinKit"];

/** Why a code does not open the door, as the door checks it offline. */
export type Refusal = "malformed" | "unknownKey" | "forged" | "wrongSession" | "revoked";

const VERSION = 1;
const KEY_ID_BYTES = 6;
const SIGNATURE_BYTES = 64;
const CONTEXT = new TextEncoder().encode("bilheteria ticket code\0");
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const raw = atob(padded + "=".repeat((4 - (padded.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

/** A ULID's 16 bytes as its 26 characters. */
function ulid(bytes: Uint8Array): string {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  let out = "";
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** Row 0 is A, 25 is Z, 26 is AA: as on the tickets. */
function rowName(row: number): string {
  let name = "";
  let n = row + 1;
  while (n > 0) {
    const r = (n - 1) % 26;
    name = String.fromCharCode(65 + r) + name;
    n = Math.floor((n - 1) / 26);
  }
  return name;
}

/** The signed part of a code and its signature, read; `null` when it is not a code. */
export function readCode(code: string): {
  admission: Admission;
  signed: Uint8Array<ArrayBuffer>;
  signature: Uint8Array<ArrayBuffer>;
} | null {
  const bytes = fromBase64Url(code.trim());
  if (!bytes || bytes.length < 1 + KEY_ID_BYTES + 32 + 4 + 1 + 1 + SIGNATURE_BYTES) return null;
  const signed = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const signature = bytes.subarray(bytes.length - SIGNATURE_BYTES);
  let at = 0;
  const take = (n: number): Uint8Array<ArrayBuffer> => {
    if (at + n > signed.length) throw new RangeError("short");
    const part = signed.subarray(at, at + n);
    at += n;
    return part;
  };
  try {
    const byte = () => take(1)[0] ?? -1;
    if (byte() !== VERSION) return null;
    const keyId = toBase64Url(take(KEY_ID_BYTES));
    const ticket = ulid(take(16));
    const session = ulid(take(16));
    const issued = new DataView(take(4).slice().buffer).getUint32(0);
    const sectorLength = byte();
    const sector = new TextDecoder("utf-8", { fatal: true }).decode(take(sectorLength));
    let seat: string | null = null;
    const hasSeat = byte();
    if (hasSeat === 1) {
      const view = new DataView(take(4).slice().buffer);
      seat = `${rowName(view.getUint16(0))}-${view.getUint16(2)}`;
    } else if (hasSeat !== 0) {
      return null;
    }
    if (at !== signed.length) return null;
    return {
      admission: { ticket, session, sector, seat, issuedAt: new Date(issued * 1000), keyId },
      signed,
      signature,
    };
  } catch {
    return null;
  }
}

/** What `code` admits to `session`, checked offline with the kit's keys and revocations. */
export async function verifyCode(
  code: string,
  kit: Kit,
  session: string,
): Promise<{ ok: true; admission: Admission } | { ok: false; refusal: Refusal }> {
  const read = readCode(code);
  if (!read) return { ok: false, refusal: "malformed" };
  const key = kit.keys.find((k) => k.id === read.admission.keyId);
  const raw = key && fromBase64Url(key.public_key);
  if (!raw) return { ok: false, refusal: "unknownKey" };
  const publicKey = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, [
    "verify",
  ]);
  const message = new Uint8Array(CONTEXT.length + read.signed.length);
  message.set(CONTEXT);
  message.set(read.signed, CONTEXT.length);
  const valid = await crypto.subtle.verify("Ed25519", publicKey, read.signature, message);
  if (!valid) return { ok: false, refusal: "forged" };
  if (read.admission.session !== session) return { ok: false, refusal: "wrongSession" };
  if (kit.revoked.includes(read.admission.ticket)) return { ok: false, refusal: "revoked" };
  return { ok: true, admission: read.admission };
}
