// The outbox: submissions wait here until the server answers. It runs from
// any page (OutboxRunner is mounted by the app) and survives reloads. A
// submission that gets no answer (network error, timeout, 408/429/5xx) is
// sent again with the SAME requestId, with backoff and at once when the
// browser comes back online, so the server can never make two dossiers of it.
// A 4xx answer is final: the item is refused, with why.
import { useEffect } from 'preact/hooks';
import { ApiError, call, client, type Dossier } from '../../api/client';
import { useSession } from '../../session';
import type { GroupName } from './forms';
import {
  allOutbox,
  deleteDraft,
  deleteOutboxItem,
  getDraft,
  getOutboxItem,
  newId,
  putOutboxItem,
  saveDraft,
  subscribe,
  updateOutboxItem,
  type Draft,
  type OutboxItem,
} from './store';

/** How long one attempt waits for an answer. */
export const SEND_TIMEOUT_MS = 20_000;
const MAX_BACKOFF_MS = 30_000;

function backoff(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Items this tab is sending right now. */
const inflight = new Set<string>();
let kick: () => void = () => {};

/** The dossier fields a slip needs, without the form (no personal data kept twice). */
export type SlipDossier = Omit<Dossier, 'birth' | 'death'>;

function strip(d: Dossier | undefined): SlipDossier | undefined {
  if (!d) return undefined;
  const { birth: _b, death: _d, ...rest } = d;
  return rest;
}

/** After receipt only what the slip needs is kept of the form: no ID numbers, phones or addresses. */
function slipBody(body: Record<string, unknown>): Record<string, unknown> {
  const form = (body.form ?? {}) as Record<string, { fullName?: string } | string | undefined>;
  const name = (k: string) => {
    const p = form[k];
    return p && typeof p === 'object' && p.fullName ? { fullName: p.fullName } : undefined;
  };
  return { form: { bundle: form.bundle, delivery: form.delivery, requester: name('requester'), declarant: name('declarant') } };
}

/** Received items are kept this long for their slips, then forgotten. */
const KEEP_RECEIVED_MS = 7 * 24 * 3600_000;

async function post(group: GroupName, body: Record<string, unknown>) {
  // The body was built by forms.toRequest from the typed form; the gateway checks it.
  if (group === 'birth') {
    return call((signal) => client.POST('/v1/dossiers/birth', { body: body as never, signal }), { timeoutMs: SEND_TIMEOUT_MS });
  }
  return call((signal) => client.POST('/v1/dossiers/death', { body: body as never, signal }), { timeoutMs: SEND_TIMEOUT_MS });
}

async function sendOne(id: string): Promise<void> {
  {
    const started = updateOutboxItem(id, (i) => ({
      ...i,
      state: 'sent',
      attempts: i.attempts + 1,
      lastAttemptAt: new Date().toISOString(),
      nextAttemptAt: undefined,
    }));
    if (!started) return;
    try {
      const res = await post(started.group, started.body);
      const dossier = strip(res.dossier as Dossier | undefined);
      updateOutboxItem(id, (i) => ({
        ...i,
        state: 'received',
        body: slipBody(i.body),
        code: res.code ?? dossier?.code,
        appointmentAt: res.appointmentAt ?? dossier?.appointmentAt,
        receivedAt: dossier?.receivedAt ?? new Date().toISOString(),
        dossier,
        lastFailure: undefined,
        error: undefined,
      }));
      deleteDraft(started.draftId);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, String(e));
      if (err.retryable || err.status === 401 || err.status === 403) {
        // No answer, or not now: the same request goes again later. (401/403:
        // the session ended; it goes once the clerk signs in again.)
        updateOutboxItem(id, (i) => ({
          ...i,
          state: 'waiting',
          lastFailure: err.status ? `HTTP ${err.status}: ${err.message}` : err.message,
          lastFailureStatus: err.status,
          nextAttemptAt: new Date(Date.now() + backoff(i.attempts)).toISOString(),
        }));
      } else {
        updateOutboxItem(id, (i) => ({ ...i, state: 'refused', error: err.toJSON(), lastFailure: undefined, nextAttemptAt: undefined }));
      }
    }
  }
}

/** Sends item `id` unless another tab is sending it (Web Locks), or this one already is. */
function trySend(id: string): void {
  if (inflight.has(id)) return;
  inflight.add(id);
  let held = true;
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  const run = locks
    ? locks.request(`lienthong-outbox-${id}`, { ifAvailable: true }, async (lock) => {
        if (!lock) {
          held = false; // another tab is sending it; look again in a while
          return;
        }
        await sendOne(id);
      })
    : sendOne(id);
  void Promise.resolve(run)
    .catch(() => {})
    .finally(() => {
      inflight.delete(id);
      if (held) kick();
      else setTimeout(() => kick(), 3000);
    });
}

function due(i: OutboxItem, owner: string, at: number): boolean {
  if (i.owner !== owner || inflight.has(i.id)) return false;
  if (i.state === 'sent') return true; // its answer was lost with the tab that sent it
  if (i.state !== 'waiting') return false;
  return !i.nextAttemptAt || new Date(i.nextAttemptAt).getTime() <= at;
}

/** Mounted once by the app: sends the signed-in clerk's outbox from any page. */
export function OutboxRunner() {
  const { session } = useSession();
  const owner = session && (session.role === 'clerk' || session.role === 'admin') ? (session.subject ?? '') : '';

  useEffect(() => {
    if (!owner) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const schedule = () => {
      if (stopped) return;
      clearTimeout(timer);
      const at = Date.now();
      for (const i of allOutbox()) {
        if (i.owner === owner && i.state === 'received' && at - new Date(i.updatedAt).getTime() > KEEP_RECEIVED_MS) deleteOutboxItem(i.id);
      }
      const items = allOutbox();
      for (const i of items) if (due(i, owner, at)) trySend(i.id);
      const next = items
        .filter((i) => i.owner === owner && i.state === 'waiting' && i.nextAttemptAt && !inflight.has(i.id))
        .map((i) => new Date(i.nextAttemptAt!).getTime())
        .sort((a, b) => a - b)[0];
      if (next !== undefined) timer = setTimeout(schedule, Math.max(50, next - Date.now()));
    };
    const online = () => {
      // Back online: everything waiting goes now.
      for (const i of allOutbox()) {
        if (i.owner === owner && i.state === 'waiting') updateOutboxItem(i.id, (x) => ({ ...x, nextAttemptAt: undefined }));
      }
      schedule();
    };
    kick = () => setTimeout(schedule, 0);
    const unsubscribe = subscribe(() => kick());
    window.addEventListener('online', online);
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
      window.removeEventListener('online', online);
      kick = () => {};
    };
  }, [owner]);

  return null;
}

/**
 * submitDraft puts a draft in the outbox with a requestId chosen now, once;
 * the runner sends it. Returns the outbox item.
 */
export function submitDraft(draft: Draft, body: (requestId: string) => Record<string, unknown>, title: string): OutboxItem {
  // A refused earlier attempt of this draft is replaced by the new one.
  if (draft.outboxId) {
    const old = getOutboxItem(draft.outboxId);
    if (old && old.state === 'refused') deleteOutboxItem(old.id);
  }
  const id = newId('req');
  const t = new Date().toISOString();
  const item: OutboxItem = {
    id,
    owner: draft.owner,
    group: draft.group,
    draftId: draft.id,
    body: body(id),
    state: 'waiting',
    attempts: 0,
    createdAt: t,
    updatedAt: t,
    title,
  };
  putOutboxItem(item);
  saveDraft({ ...getDraft(draft.id), ...draft, outboxId: id });
  kick();
  return item;
}

/** Sends every waiting item now (the "send now" button). */
export function retryNow(owner: string): void {
  for (const i of allOutbox()) {
    if (i.owner === owner && i.state === 'waiting') updateOutboxItem(i.id, (x) => ({ ...x, nextAttemptAt: undefined }));
  }
  kick();
}
