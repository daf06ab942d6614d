import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
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
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
      PORT: String(port),
      BASE_PATH: basePath
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const origin = `http://127.0.0.1:${port}`
  const url = `${origin}${basePath}`
  // A minute: on a busy 2-core machine (CI runs two test files at once) a cold start has taken over 20 s.
  const deadline = Date.now() + (options.timeoutMs ?? 60000)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`)
    try {
      const res = await fetch(`${url}/api/health`)
      if (res.status === 200) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server did not become healthy:\n${out}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const proc: ServerProcess = {
    url,
    origin,
    port,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return await exited
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
  t.teardown(async () => { await proc.kill() })
  return proc
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
