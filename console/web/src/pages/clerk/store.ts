// Drafts and the outbox, kept in the browser (localStorage) so that a closed
// browser or a dropped connection loses nothing. Every change is written at
// once and announced to this tab's subscribers and, through the `storage`
// event, to other tabs.
import { useEffect, useState } from 'preact/hooks';
import type { ErrorInfo } from '../../api/client';
import type { GroupName, Values } from './forms';

export interface Draft {
  id: string;
  /** The session subject that typed it; each clerk sees only their own. */
  owner: string;
  group: GroupName;
  values: Values;
  createdAt: string;
  updatedAt: string;
  /** Set once submitted: the outbox item that carries it. */
  outboxId?: string | undefined;
}

export type OutboxState = 'waiting' | 'sent' | 'received' | 'refused';

export interface OutboxItem {
  /** The requestId, chosen once when the clerk submits; every resend uses it. */
  id: string;
  owner: string;
  group: GroupName;
  draftId: string;
  body: Record<string, unknown>;
  state: OutboxState;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  lastAttemptAt?: string | undefined;
  nextAttemptAt?: string | undefined;
  /** The last failure that will be retried (network, timeout, 5xx). */
  lastFailure?: string | undefined;
  /** Set when received. */
  code?: string | undefined;
  appointmentAt?: string | undefined;
  receivedAt?: string | undefined;
  /** Set when refused (a 4xx answer): why, with the field violations. */
  error?: ErrorInfo | undefined;
  lastFailureStatus?: number | undefined;
  /** The dossier as the server answered (without the form), for the slip. */
  dossier?: import('./sender').SlipDossier | undefined;
  /** A short summary for lists: the child's or the deceased's name. */
  title?: string | undefined;
}

const DRAFTS = 'lienthong.clerk.drafts.v1';
const OUTBOX = 'lienthong.clerk.outbox.v1';

type Listener = () => void;
const listeners = new Set<Listener>();
function emit(): void {
  for (const l of listeners) l();
}
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === DRAFTS || e.key === OUTBOX) emit();
  });
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function read<T>(key: string): T[] {
  try {
    const raw = localStorage.getItem(key);
    const v: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}
function write<T>(key: string, items: T[]): void {
  localStorage.setItem(key, JSON.stringify(items));
  emit();
}

export function newId(prefix: string): string {
  const c = globalThis.crypto;
  const id = typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${id}`;
}

const now = () => new Date().toISOString();

// Drafts

export function listDrafts(owner: string): Draft[] {
  return read<Draft>(DRAFTS).filter((d) => d.owner === owner);
}
export function getDraft(id: string): Draft | undefined {
  return read<Draft>(DRAFTS).find((d) => d.id === id);
}
export function saveDraft(d: Draft): void {
  const all = read<Draft>(DRAFTS).filter((x) => x.id !== d.id);
  all.push({ ...d, updatedAt: now() });
  write(DRAFTS, all);
}
export function deleteDraft(id: string): void {
  write(
    DRAFTS,
    read<Draft>(DRAFTS).filter((d) => d.id !== id),
  );
}
export function createDraft(owner: string, group: GroupName, values: Values): Draft {
  const t = now();
  const d: Draft = { id: newId('draft'), owner, group, values, createdAt: t, updatedAt: t };
  saveDraft(d);
  return d;
}

// Outbox

export function listOutbox(owner: string): OutboxItem[] {
  return read<OutboxItem>(OUTBOX).filter((i) => i.owner === owner);
}
export function allOutbox(): OutboxItem[] {
  return read<OutboxItem>(OUTBOX);
}
export function getOutboxItem(id: string): OutboxItem | undefined {
  return read<OutboxItem>(OUTBOX).find((i) => i.id === id);
}
export function findByCode(code: string): OutboxItem | undefined {
  return read<OutboxItem>(OUTBOX).find((i) => i.code === code);
}
export function putOutboxItem(item: OutboxItem): void {
  const all = read<OutboxItem>(OUTBOX).filter((x) => x.id !== item.id);
  all.push({ ...item, updatedAt: now() });
  write(OUTBOX, all);
}
/** Applies `change` to the stored item (read fresh, so other tabs' writes are kept). */
export function updateOutboxItem(id: string, change: (i: OutboxItem) => OutboxItem): OutboxItem | undefined {
  const cur = getOutboxItem(id);
  if (!cur) return undefined;
  const next = change(cur);
  putOutboxItem(next);
  return next;
}
export function deleteOutboxItem(id: string): void {
  write(
    OUTBOX,
    read<OutboxItem>(OUTBOX).filter((i) => i.id !== id),
  );
}

/** Re-renders on any change to drafts or the outbox. */
export function useStoreVersion(): number {
  const [v, setV] = useState(0);
  useEffect(() => subscribe(() => setV((x) => x + 1)), []);
  return v;
}
