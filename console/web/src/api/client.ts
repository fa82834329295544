// The typed API client: openapi-fetch over the generated schema, sending the
// session cookie (same origin) and the X-CSRF-Token header on every request
// that changes state, and turning error bodies into ApiError.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * Every path the client may call. When the engine's contract gains a path that
 * docs/openapi/lienthong.swagger.json does not carry yet, describe it in a
 * `PendingPaths` interface in the generated shape and use
 * `paths & Omit<PendingPaths, keyof paths>` here until `npm run gen` brings it.
 */
export type AllPaths = paths;

type Schemas = components['schemas'];

export type Dossier = Schemas['v1Dossier'];
export type Step = Schemas['v1Step'];
export type BirthForm = Schemas['v1BirthForm'];
export type DeathForm = Schemas['v1DeathForm'];
export type DossierStatus = NonNullable<Schemas['v1DossierStatus']>;
export type StepStatus = NonNullable<Schemas['v1StepStatus']>;
export type StepKind = NonNullable<Schemas['v1StepKind']>;
export type Group = NonNullable<Schemas['v1Group']>;
export type Session = Schemas['v1Session'];
export type DemoUser = Schemas['v1DemoUser'];
export type Province = Schemas['v1Province'];
export type Commune = Schemas['v1Commune'];
export type Facility = Schemas['v1Facility'];
export type CertificateExtract = Schemas['v1CertificateExtract'];
export type VerifyResult = Schemas['v1VerifyExtractResponse'];
export type LookupResponse = Schemas['v1LookupDossierResponse'];
export type TimelineEntry = Schemas['v1TimelineEntry'];
export type Notification = Schemas['v1Notification'];

/**
 * ApiError is every failed call: `status` is the HTTP status, or 0 when no
 * answer came (network down, timeout). `fieldViolations` maps a proto field
 * path (e.g. "form.child.full_name") to what is wrong with it.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly fieldViolations: Record<string, string>;
  /** The same violations in Vietnamese (google.rpc LocalizedMessage, vi-VN), where the API gives them. */
  readonly localizedViolations: Record<string, string>;
  constructor(status: number, message: string, fieldViolations: Record<string, string> = {}, localizedViolations: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fieldViolations = fieldViolations;
    this.localizedViolations = localizedViolations;
  }
  /** No answer from the server, or an answer that says "try again": resend the same request. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
  /** The plain form, for storage (outbox items keep it). */
  toJSON(): ErrorInfo {
    return { status: this.status, message: this.message, fieldViolations: this.fieldViolations, localizedViolations: this.localizedViolations };
  }
}

export interface ErrorInfo {
  status: number;
  message: string;
  fieldViolations: Record<string, string>;
  localizedViolations?: Record<string, string>;
}

/** The violations to show: Vietnamese where the API gave it and the page is in Vietnamese, else the API's description. */
export function violationsFor(lang: 'vi' | 'en', e: ErrorInfo | undefined): Record<string, string> {
  if (!e) return {};
  if (lang === 'en') return { ...e.fieldViolations };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.fieldViolations)) out[k] = e.localizedViolations?.[k] || v;
  return out;
}

/** Reads a grpc-gateway error body ({code, message, details:[BadRequest...]}). */
export function toApiError(status: number, body: unknown): ApiError {
  let message = '';
  const violations: Record<string, string> = {};
  const localized: Record<string, string> = {};
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; details?: unknown };
    if (typeof b.message === 'string') message = b.message;
    if (Array.isArray(b.details)) {
      for (const d of b.details) {
        const fv = (d as { fieldViolations?: unknown })?.fieldViolations;
        if (!Array.isArray(fv)) continue;
        for (const v of fv) {
          const field = (v as { field?: unknown }).field;
          const desc = (v as { description?: unknown }).description;
          if (typeof field !== 'string') continue;
          const text = typeof desc === 'string' ? desc : '';
          violations[field] = violations[field] ? `${violations[field]}; ${text}` : text;
          const lm = (v as { localizedMessage?: { message?: unknown } }).localizedMessage?.message;
          if (typeof lm === 'string' && lm) localized[field] = localized[field] ? `${localized[field]}; ${lm}` : lm;
        }
      }
    }
  } else if (typeof body === 'string') {
    message = body;
  }
  return new ApiError(status, message || `HTTP ${status}`, violations, localized);
}

let csrfToken = '';
/** The session's CSRF token, sent as X-CSRF-Token on every non-GET request. */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when any request answers 401 (the session ended). */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD' && csrfToken) {
      request.headers.set('X-CSRF-Token', csrfToken);
    }
    return request;
  },
};

/** The raw openapi-fetch client. Prefer `call()`, which throws ApiError. */
export const client = createClient<AllPaths>({ baseUrl: '', credentials: 'same-origin' });
client.use(csrf);

/** Default time to wait for an answer before a call counts as unanswered. */
export const DEFAULT_TIMEOUT_MS = 15_000;

type Result<T> = { data?: T; error?: unknown; response: Response };

/**
 * call runs one openapi-fetch request and returns its data or throws ApiError.
 *
 *   const { dossiers } = await call((signal) => client.GET('/v1/dossiers', { params: { query: { pageSize: 50 } }, signal }));
 *
 * `signal` aborts after `timeoutMs`; a network failure or a timeout is ApiError with status 0.
 * `keepSessionOn401` leaves the session alone on a 401 (a failed renewal: the
 * session's token may still be good for a while).
 */
export async function call<T>(
  run: (signal: AbortSignal) => Promise<Result<T>>,
  opts: { timeoutMs?: number; signal?: AbortSignal; keepSessionOn401?: boolean } = {},
): Promise<T> {
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)];
  if (opts.signal) signals.push(opts.signal);
  const signal = AbortSignal.any(signals);
  let res: Result<T>;
  try {
    res = await run(signal);
  } catch (e) {
    if (opts.signal?.aborted) throw e;
    throw new ApiError(0, e instanceof Error ? e.message : String(e));
  }
  if (!res.response.ok) {
    if (res.response.status === 401 && !opts.keepSessionOn401) onUnauthorized();
    throw toApiError(res.response.status, res.error);
  }
  return (res.data ?? {}) as T;
}

/** True when e is an ApiError with one of the statuses. */
export function isStatus(e: unknown, ...statuses: number[]): e is ApiError {
  return e instanceof ApiError && statuses.includes(e.status);
}
