import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { testSecret } from '../helper.js'
import type { TestDatabase } from './database.js'

const projectRoot = fileURLToPath(new URL('../../', import.meta.url))

/** A free TCP port on loopback, for a child server that must listen for real. */
export async function freePort (): Promise<number> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const address = srv.address()
  srv.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface ServerProcess {
  /** Base URL including BASE_PATH, without a trailing slash: http://127.0.0.1:PORT/chat */
  url: string
  origin: string
  port: number
  child: ChildProcess
  output: () => string
  /** SIGTERM and wait for exit. */
  stop: () => Promise<number | null>
  /** SIGKILL and wait for exit. */
  kill: () => Promise<void>
}

interface Teardown { teardown (fn: () => unknown): void }

/** A program a test runs beside it (the app, a proxy, a loader), with its output kept for failure messages. */
export interface ChildHandle {
  child: ChildProcess
  /** What it wrote to stdout and stderr so far. */
  output: () => string
  /** Why it could not be started (ENOENT: not installed), once that is known. */
  failed: () => Error | undefined
  /** Resolves with the exit code once it is gone (null when it was killed or never started). */
  exited: Promise<number | null>
  /** Sends `signal` (SIGTERM by default) unless it is gone already, and waits until it is. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/**
 * Spawns a program for one test and stops it at teardown with `stopSignal`
 * (SIGTERM by default). A program that is not installed does not throw here:
 * `failed()` says so, and `untilReady` turns it into a clear message.
 */
export function spawnChild (
  t: Teardown,
  command: string,
  args: string[],
  options: { cwd?: string, env?: NodeJS.ProcessEnv, stdin?: 'ignore' | 'pipe', stopSignal?: NodeJS.Signals } = {}
): ChildHandle {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] })
  let out = ''
  let failed: Error | undefined
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  child.once('error', (err) => { failed = err })
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => resolve(code))
    child.once('error', () => resolve(null))
  })
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (failed === undefined && child.exitCode === null && child.signalCode === null) child.kill(signal)
    return await exited
  }
  t.teardown(async () => { await stop(options.stopSignal) })
  return { child, output: () => out, failed: () => failed, exited, stop }
}

/**
 * Waits until `ready()` resolves true (a throw counts as not yet), checking
 * `intervalMs` apart; fails at once when the program could not start or
 * exited, and after `timeoutMs`, with `log()` (its output by default).
 */
export async function untilReady (
  name: string,
  proc: ChildHandle,
  ready: () => Promise<boolean>,
  options: { timeoutMs: number, intervalMs?: number, log?: () => string }
): Promise<void> {
  const log = options.log ?? proc.output
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const failed = proc.failed()
    if (failed !== undefined) throw new Error(`${name} could not be started (${failed.message}); run .ci/install-proxies.sh if it is not installed`)
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${name} exited early (${proc.child.exitCode ?? proc.child.signalCode}):\n${log()}`)
    }
    if (await ready().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${name} did not come up within ${options.timeoutMs} ms:\n${log()}`)
    await new Promise(resolve => setTimeout(resolve, options.intervalMs ?? 100))
  }
}

/** A folder of its own for one test's program, removed at teardown; `mode` lets a program that drops privileges write or read it. */
export function workFolder (t: Teardown, prefix: string, mode?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  if (mode !== undefined) chmodSync(dir, mode)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Starts `src/server.ts` as a real process (the same entry point `npm start`
 * runs, through tsx instead of the build) and waits until /api/health answers.
 */
export async function startServerProcess (
  t: Teardown,
  env: Record<string, string | undefined>,
  options: { port?: number, basePath?: string, timeoutMs?: number } = {}
): Promise<ServerProcess> {
  const port = options.port ?? await freePort()
  const basePath = options.basePath ?? env.BASE_PATH ?? ''
  const proc = spawnChild(t, process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      BASE_PATH: basePath
    },
    stopSignal: 'SIGKILL'
  })
  const origin = `http://127.0.0.1:${port}`
  const url = `${origin}${basePath}`
  try {
    // A minute: on a busy 2-core machine (CI runs two test files at once) a cold start has taken over 20 s.
    await untilReady('server', proc, async () => (await fetch(`${url}/api/health`)).status === 200, { timeoutMs: options.timeoutMs ?? 60000 })
  } catch (err) {
    await proc.stop('SIGKILL')
    throw err
  }
  return {
    url,
    origin,
    port,
    child: proc.child,
    output: proc.output,
    stop: async () => await proc.stop('SIGTERM'),
    kill: async () => { await proc.stop('SIGKILL') }
  }
}

/** What every test node runs with: the test's database, the test secret, no rate limits, a quick feed. */
export function nodeEnv (database: TestDatabase, env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...(database.databaseUrl === undefined ? {} : { DATABASE_URL: database.databaseUrl }),
    DATA_DIR: database.dataDir,
    SESSION_SECRET: testSecret,
    RATE_LIMIT_DISABLED: 'true',
    FEED_INTERVAL_MS: '50',
    ...env
  }
}

/** A chat server process on the test's database (see nodeEnv); `env` adds to or overrides the defaults. */
export async function startChatNode (
  t: Teardown, database: TestDatabase, env: Record<string, string | undefined> = {}, options: { port?: number, basePath?: string } = {}
): Promise<ServerProcess> {
  return await startServerProcess(t, nodeEnv(database, env), options)
}
