// The browser tests' stack: the lienthong binary built once from the
// repository, running `dev --ephemeral` in a temp data dir on its own ports
// (base 18400), so it never meets another stack on this machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** console/web */
export const webDir = path.resolve(here, '..');
/** The repository root (console/web/../..), or LIENTHONG_REPO. */
export const repoDir = process.env.LIENTHONG_REPO ?? path.resolve(webDir, '../..');

const BASE = Number(process.env.E2E_PORT_BASE ?? 18400);

/** A stack's ports, all counted from its base. */
export function portsAt(base: number) {
  return {
    apiGrpc: base,
    justice: base + 1,
    police: base + 2,
    insurance: base + 3,
    portal: base + 4,
    sms: base + 5,
    smtp: base + 6,
    apiHttp: base + 80,
    workerHttp: base + 90,
    agencyHttp: base + 95,
    temporal: base - 167, // 18233 for the shared stack
  };
}
export const ports = portsAt(BASE);

/** Where the tests point the browser: E2E_BASE_URL, or the stack started here. */
export function stackBaseUrl(): string {
  return process.env.E2E_BASE_URL ?? `http://127.0.0.1:${ports.apiHttp}`;
}

/** The file a stack's starter leaves for whoever stops it. */
const stateFileAt = (base: number) => path.join(tmpdir(), `lienthong-e2e-${base}.json`);

export interface State {
  pid: number;
  dataDir: string;
  log: string;
  baseUrl: string;
}

export interface StackOptions {
  /** The port base (default E2E_PORT_BASE or 18400). */
  base?: number;
  /** Four weeks of finished dossiers (default true). */
  demo?: boolean;
  /** More `dev` flags, e.g. --drill-step-deadline. */
  extraArgs?: string[];
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { cwd, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/** npm run build: the binary embeds console/static, so it must be fresh first. */
export function buildAssets(): void {
  run('npm', ['run', 'build', '--silent'], webDir);
}

/** go build -o <tmp>/lienthong ./cmd/lienthong (Go's cache makes a rebuild quick). */
export function buildBinary(): string {
  if (process.env.E2E_BINARY) return process.env.E2E_BINARY;
  const dir = path.join(tmpdir(), 'lienthong-e2e-bin');
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, 'lienthong');
  run('go', ['build', '-o', bin, './cmd/lienthong'], repoDir, { ...process.env, GOTOOLCHAIN: 'local' });
  return bin;
}

async function waitReady(url: string, proc: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the stack exited (${proc.exitCode}); log:\n${tail(log)}`);
    try {
      const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the stack was not ready in ${timeoutMs / 1000} s; log:\n${tail(log)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `lienthong dev --ephemeral` and waits for /readyz. A stack left by an
 * earlier run that was cut short is stopped first; and should this run be cut
 * short (a global timeout skips the teardown), the stack is told to stop as
 * the test runner exits.
 */
export async function startStack(bin: string, opts: StackOptions = {}): Promise<State> {
  const base = opts.base ?? BASE;
  const ports = portsAt(base);
  const stateFile = stateFileAt(base);
  await stopStack(base);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lienthong-e2e-data-'));
  const log = path.join(dataDir, 'stack.log');
  const out = openSync(log, 'a');
  const a = (p: number) => `127.0.0.1:${p}`;
  const args = [
    'dev',
    '--ephemeral',
    '--data-dir', dataDir,
    '--listen-ip', '127.0.0.1',
    '--api-grpc-addr', a(ports.apiGrpc),
    '--api-http-addr', a(ports.apiHttp),
    '--justice-addr', a(ports.justice),
    '--police-addr', a(ports.police),
    '--insurance-addr', a(ports.insurance),
    '--portal-addr', a(ports.portal),
    '--sms-addr', a(ports.sms),
    '--smtp-addr', a(ports.smtp),
    '--temporal-port', String(ports.temporal),
    '--temporal-ui-port', '0',
    // Four weeks of finished dossiers, so the pages (and their screenshots)
    // show a working commune and province; the agencies are left as they are.
    ...(opts.demo === false ? [] : ['--demo', '--demo-live=false']),
    ...(opts.extraArgs ?? []),
  ];
  // Its own process group, so that a last-resort SIGKILL reaches PostgreSQL too.
  const proc = spawn(bin, args, { cwd: dataDir, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  proc.unref();
  const state: State = { pid: proc.pid!, dataDir, log, baseUrl: `http://${a(ports.apiHttp)}` };
  writeFileSync(stateFile, JSON.stringify(state));
  process.once('exit', () => {
    if (!existsSync(stateFile)) return; // the teardown ran
    try {
      process.kill(state.pid, 'SIGINT'); // it stops its parts, PostgreSQL included, on its own
    } catch {
      /* gone */
    }
  });
  try {
    await waitReady(`http://${a(ports.apiHttp)}`, proc, log, 240_000);
  } catch (e) {
    await stopStack(base);
    throw e;
  }
  return state;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGINT (the stack stops its parts, PostgreSQL included), then SIGKILL after 20 s. */
export async function stopStack(base = BASE): Promise<void> {
  const stateFile = stateFileAt(base);
  if (!existsSync(stateFile)) return;
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  rmSync(stateFile, { force: true });
  if (alive(state.pid)) {
    try {
      process.kill(state.pid, 'SIGINT');
    } catch {
      /* gone */
    }
    const deadline = Date.now() + 20_000;
    while (alive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (alive(state.pid)) {
      try {
        process.kill(-state.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  if (!process.env.E2E_KEEP_DATA) rmSync(state.dataDir, { recursive: true, force: true });
}
