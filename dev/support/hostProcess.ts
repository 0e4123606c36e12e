import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../env';

/**
 * The compiled development host (`dist/dev/host.js`) as a child process, as a separate machine
 * would run the functions: the API tests' stack and the benchmarks start it this way, so the
 * functions do not share an event loop with the emulators standing in for remote services.
 */
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface HostProcess {
  logFile: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function startHostProcess(env: Record<string, string>): HostProcess {
  const script = path.join(repoRoot(), 'dist', 'dev', 'host.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run "npm run build" first`);
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'connect-stack-')), 'host.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd); // the child holds its own copy
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  return {
    logFile,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(forced);
    },
  };
}

/** Ready when GET /api/health answers 200; a host that exits first fails with its log. */
export async function waitUntilHealthy(baseUrl: string, host: HostProcess): Promise<void> {
  let exitCode: number | null | undefined;
  void host.exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the development host exited (${exitCode}) before answering:\n${logTail(host.logFile)}`);
    if (await answers(`${baseUrl}/health`)) return;
    if (Date.now() > deadline) throw new Error(`the development host did not answer within ${READY_TIMEOUT_MS} ms:\n${logTail(host.logFile)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.arrayBuffer(); // release the connection
    return res.status === 200;
  } catch {
    return false;
  }
}

export function logTail(file: string, lines = 40): string {
  return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}
