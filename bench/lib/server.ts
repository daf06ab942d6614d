import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import mysql from 'mysql2/promise'
import { onCleanup, trackChild } from './cleanup.js'
import { cpuMicros, rssBytes } from './proc.js'
import { freePort } from '../../test/helpers/server-process.js'

const projectRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Where a bench run keeps its data: a fresh MariaDB database or a fresh SQLite folder. */
export interface BenchDatabase {
  kind: 'mariadb' | 'sqlite'
  /** `mysql://…/<db>` for MariaDB; undefined for SQLite. */
  url: string | undefined
  dataDir: string
}

/**
 * Creates the run's database and registers its removal. MariaDB is reached at
 * BENCH_DATABASE_URL (default the local root account); the database is new so
 * that a run never measures, or damages, anything but itself.
 */
export async function createDatabase (kind: 'mariadb' | 'sqlite'): Promise<BenchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-bench-'))
  onCleanup(async () => rmSync(dataDir, { recursive: true, force: true }))
  if (kind === 'sqlite') return { kind, url: undefined, dataDir }

  const serverUrl = process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306'
  const name = `chat_bench_${randomBytes(6).toString('hex')}`
  const admin = await mysql.createConnection(serverUrl)
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.end()
  onCleanup(async () => {
    const conn = await mysql.createConnection(serverUrl)
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await conn.end()
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return { kind, url: url.toString(), dataDir }
}

export { freePort }

/** The figures of `GET /api/debug/stats` (served only with EXPOSE_STATS=true). */
export interface ServerStats {
  heldPolls: number
  /** Running total of SQL statements the process issued. */
  dbQueries: number
  rss: number
  /** Microseconds, from process.cpuUsage(). */
  cpuUser: number
  cpuSystem: number
  /** Group-commit transactions of sends so far (NaN when the server does not say). */
  sendBatches: number
}

/** One sample of a server's cost: its own report when it has one, /proc always. */
export interface Sample {
  at: number
  stats: ServerStats | null
  procRss: number
  procCpu: number
}

export class ServerNode {
  readonly name: string
  readonly origin: string
  readonly child: ChildProcess
  private out = ''
  private statsUnavailable = false
  private statsAuth: string | undefined
  private statsToken: string | undefined

  constructor (name: string, origin: string, child: ChildProcess) {
    this.name = name
    this.origin = origin
    this.child = child
    // Keep only the tail: a server that logs per request under load must not
    // grow the bench's memory; the tail is what explains a crash.
    const keep = (d: Buffer): void => {
      this.out += d.toString()
      if (this.out.length > 64 * 1024) this.out = this.out.slice(-32 * 1024)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
  }

  get pid (): number { return this.child.pid ?? -1 }
  get alive (): boolean { return this.child.exitCode === null && this.child.signalCode === null }
  output (): string { return this.out }

  /**
   * A token to try if the stats route turns out to need authentication. It is
   * not sent otherwise: authenticating may itself cost the server a query,
   * and under load a sample must not fail for a reason of its own.
   */
  useStatsToken (token: string): void { this.statsToken = `Bearer ${token}` }

  async stats (): Promise<ServerStats | null> {
    if (this.statsUnavailable || !this.alive) return null
    try {
      const headers: Record<string, string> = {}
      if (this.statsAuth !== undefined) headers.authorization = this.statsAuth
      const res = await request(`${this.origin}/api/debug/stats`, { headers, headersTimeout: 10000, bodyTimeout: 10000 })
      const text = await res.body.text()
      if ((res.statusCode === 401 || res.statusCode === 403) && this.statsAuth === undefined && this.statsToken !== undefined) {
        this.statsAuth = this.statsToken
        return await this.stats()
      }
      if (res.statusCode === 404) {
        this.statsUnavailable = true
        console.error(`[${this.name}] GET /api/debug/stats answered 404 although EXPOSE_STATS=true: queries/s and server CPU fall back to /proc only`)
        return null
      }
      if (res.statusCode !== 200) throw new Error(`GET /api/debug/stats → ${res.statusCode} ${text.slice(0, 300)}`)
      const body = JSON.parse(text) as Partial<ServerStats>
      return {
        heldPolls: Number(body.heldPolls),
        dbQueries: Number(body.dbQueries),
        rss: Number(body.rss),
        cpuUser: Number(body.cpuUser),
        cpuSystem: Number(body.cpuSystem),
        sendBatches: Number(body.sendBatches)
      }
    } catch (err) {
      console.error(`[${this.name}] stats: ${(err as Error).message}`)
      return null
    }
  }

  async sample (): Promise<Sample> {
    const stats = await this.stats()
    return { at: performance.now(), stats, procRss: rssBytes(this.pid), procCpu: cpuMicros(this.pid) }
  }

  /** SIGTERM, then SIGKILL if the process has not gone in `graceMs`. */
  async stop (graceMs = 5000): Promise<void> {
    if (!this.alive) return
    const exited = once(this.child, 'exit')
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => { if (this.alive) this.child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
}

/**
 * Starts `src/server.ts` the way the brief describes (node --import tsx) and
 * waits for /api/health. The child is killed when the bench ends, however it ends.
 */
export async function startServer (
  name: string,
  env: Record<string, string | undefined>,
  timeoutMs = 60000,
  port?: number
): Promise<ServerNode> {
  port ??= await freePort()
  // BENCH_SERVER names another entry point, e.g. dist/server.js to measure the
  // build without the tsx loader's own memory.
  const entry = process.env.BENCH_SERVER ?? 'src/server.ts'
  // BENCH_NODE_ARGS adds node flags NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(a => a !== '')
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
    cwd: projectRoot,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', EXPOSE_STATS: 'true', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  trackChild(child)
  const origin = `http://127.0.0.1:${port}`
  const node = new ServerNode(name, origin, child)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!node.alive) throw new Error(`${name} exited during start-up (${child.exitCode ?? child.signalCode}):\n${node.output()}`)
    try {
      const res = await request(`${origin}/api/health`, { headersTimeout: 2000, bodyTimeout: 2000 })
      await res.body.dump()
      if (res.statusCode === 200) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${name} did not become healthy in ${timeoutMs} ms:\n${node.output()}`)
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  return node
}

/** A random SESSION_SECRET: every node of one run must share it. */
export function sessionSecret (): string {
  return randomBytes(32).toString('base64url')
}
