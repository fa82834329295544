// Certificate extracts travel as JSON (the CertificateExtract message, bytes
// as base64). In a verify link the whole JSON is base64url-encoded:
// <origin>/#/verify?x=<base64url(JSON)>.
import type { CertificateExtract } from '../api/client';

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64Url(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
export function fromBase64Url(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  return new TextDecoder().decode(base64ToBytes(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
}

/**
 * The verify link of an extract. It carries what verification needs (the
 * signed payload, its signature and key id): everything else an extract says
 * is inside the payload, and a shorter link makes a QR code a phone can read.
 */
export function verifyLink(extract: CertificateExtract): string {
  const { payload, signature, keyId } = extract;
  return `${window.location.origin}/#/verify?x=${toBase64Url(JSON.stringify({ payload, signature, keyId }))}`;
}

/** The signed content (payload, base64) as text, or '' when it is not UTF-8 text. */
export function payloadText(extract: CertificateExtract): string {
  if (!extract.payload) return '';
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(base64ToBytes(extract.payload));
  } catch {
    return '';
  }
}

/** The signed content as an object, when it is JSON. */
export function payloadJson(extract: CertificateExtract): Record<string, unknown> | undefined {
  const text = payloadText(extract);
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads pasted or uploaded text: the extract JSON, {extract: ...}, or a verify link. */
export function parseExtract(text: string): CertificateExtract | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const m = /[?&]x=([A-Za-z0-9_-]+)/.exec(trimmed);
  let raw = trimmed;
  if (m && !trimmed.startsWith('{')) {
    try {
      raw = fromBase64Url(m[1]!);
    } catch {
      return undefined;
    }
  }
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    const e = (v.extract && typeof v.extract === 'object' ? v.extract : v) as CertificateExtract;
    return typeof e === 'object' && e ? e : undefined;
  } catch {
    return undefined;
  }
}
