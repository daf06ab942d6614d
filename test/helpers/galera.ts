import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'

/*
 * The 3-node Galera cluster of test/helpers/galera.sh, for a test: free ports,
 * a throwaway folder, and the cluster stopped by PID and deleted when the test
 * ends (also when the test process exits without its teardown).
 */

const script = fileURLToPath(new URL('./galera.sh', import.meta.url))
const run = promisify(execFile)

interface Teardown { teardown (fn: () => unknown): void }

/** Why a Galera test cannot run here, or false when it can. */
export function galeraMissing (): string | false {
  const provider = process.env.GALERA_PROVIDER ?? '/usr/lib/galera/libgalera_smm.so'
  if (!existsSync('/usr/sbin/mariadbd')) return 'mariadbd is not installed (Debian: mariadb-server)'
  if (!existsSync(provider)) return `galera-4 is not installed (no ${provider}; Debian: apt-get install galera-4)`
  const onPath = (name: string): boolean => (process.env.PATH ?? '').split(delimiter).some(d => d !== '' && existsSync(join(d, name)))
  if (!onPath('rsync')) return 'rsync is not installed (Galera\'s snapshot transfer uses it; Debian: apt-get install rsync)'
  if (!onPath('mariadb')) return 'the mariadb client is not installed (galera.sh asks each node its state with it; Debian: mariadb-client)'
  return false
}

export interface GaleraCluster {
  /** SQL ports of nodes 1, 2 and 3. */
  ports: number[]
  /** `mysql://root@127.0.0.1:P1,127.0.0.1:P2/db`, hosts in the order of `nodes` (1-based). */
  url: (database: string, nodes: number[]) => string
  createDatabase: (name: string) => Promise<void>
  /** A connection to node n (1-based), on `database` if given. */
  connect: (n: number, database?: string) => Promise<mysql.Connection>
  /** SIGKILL node n: a crash; the others keep the primary component (2 of 3). */
  kill: (n: number) => Promise<void>
  status: () => Promise<string>
}

async function portsFree (ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const free = await new Promise<boolean>(resolve => {
      const srv = createServer()
      srv.once('error', () => { resolve(false) })
      srv.listen(port, '127.0.0.1', () => { srv.close(() => { resolve(true) }) })
    })
    if (!free) return false
  }
  return true
}

/** Bases for galera.sh: SQL on sqlBase+1..3, Galera on galeraBase+10n..+2. */
async function pickPorts (): Promise<{ sqlBase: number, galeraBase: number }> {
  for (let tries = 0; tries < 50; tries++) {
    const sqlBase = 20000 + Math.floor(Math.random() * 1000) * 10
    const galeraBase = sqlBase + 100
    const ports = [1, 2, 3].flatMap(n => [sqlBase + n, galeraBase + 10 * n, galeraBase + 10 * n + 1, galeraBase + 10 * n + 2])
    if (await portsFree(ports)) return { sqlBase, galeraBase }
  }
  throw new Error('no free ports for a Galera cluster')
}

/** Starts the cluster (about 40 s: two rsync snapshot transfers) and resolves once all three nodes are Synced. */
export async function startGaleraCluster (t: Teardown): Promise<GaleraCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-galera-'))
  const { sqlBase, galeraBase } = await pickPorts()
  const clean = (): void => {
    try { execFileSync('bash', [script, 'clean', dir], { stdio: 'ignore' }) } catch { /* already gone */ }
  }
  // The nodes run in sessions of their own: should this process die without
  // its teardown, they must not outlive it.
  process.once('exit', clean)
  t.teardown(async () => {
    process.removeListener('exit', clean)
    await run('bash', [script, 'clean', dir])
  })
  try {
    await run('bash', [script, 'start', dir, String(sqlBase), String(galeraBase)], { timeout: 150000 })
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new Error(`Galera cluster did not start: ${e.stderr ?? e.message}`)
  }
  const ports = [1, 2, 3].map(n => sqlBase + n)
  const connect = async (n: number, database?: string): Promise<mysql.Connection> =>
    await mysql.createConnection({ host: '127.0.0.1', port: ports[n - 1] as number, user: 'root', ...(database === undefined ? {} : { database }) })
  return {
    ports,
    url: (database, nodes) => `mysql://root@${nodes.map(n => `127.0.0.1:${ports[n - 1] as number}`).join(',')}/${database}`,
    createDatabase: async (name) => {
      const conn = await connect(1)
      await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
      await conn.end()
    },
    connect,
    kill: async (n) => { await run('bash', [script, 'kill', dir, String(n)]) },
    status: async () => (await run('bash', [script, 'status', dir])).stdout
  }
}
