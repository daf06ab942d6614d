import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import mysql from 'mysql2/promise'
import { freePort } from './server-process.js'

/*
 * A MariaDB server of the test's own, on a free loopback port and a throwaway
 * data directory, that the test may stop and start at will. The shared server
 * on 3306 serves every other test file running in parallel, so fault tests
 * must never stop that one.
 */

interface Teardown { teardown (fn: () => unknown): void }

const serverNames = ['mariadbd', 'mysqld']
const serverDirs = ['/usr/sbin', '/usr/libexec', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/opt/homebrew/bin']

/** The MariaDB server binary, or null when it is not installed (the tests then skip). */
export function mariadbServerBinary (): string | null {
  const dirs = [...serverDirs, ...(process.env.PATH ?? '').split(delimiter).filter(d => d !== '')]
  for (const name of serverNames) {
    for (const dir of dirs) {
      const file = join(dir, name)
      if (existsSync(file)) return file
    }
  }
  return null
}

export interface PrivateMariaDb {
  port: number
  /** `mysql://root@127.0.0.1:PORT/NAME`: no password, the server skips grant tables. */
  url: (database: string) => string
  createDatabase: (name: string) => Promise<string>
  /** SIGTERM and wait for exit: a clean shutdown, as a restart or upgrade does. */
  stop: () => Promise<void>
  /** SIGKILL and wait for exit: a crash; the next start runs InnoDB recovery. */
  crash: () => Promise<void>
  /** Starts it again on the same data directory and port; resolves once it answers. */
  start: () => Promise<void>
  running: () => boolean
  output: () => string
}

async function answers (port: number): Promise<boolean> {
  try {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 })
    await conn.query('SELECT 1')
    await conn.end()
    return true
  } catch {
    return false
  }
}

/**
 * Starts a private MariaDB. An empty data directory is enough with
 * --skip-grant-tables (the server creates its InnoDB files), which saves the
 * seconds mariadb-install-db takes. Small buffers keep it light next to the
 * shared server. Killed and deleted when the test ends.
 */
export async function startPrivateMariaDb (t: Teardown, options: { startTimeoutMs?: number } = {}): Promise<PrivateMariaDb> {
  const binary = mariadbServerBinary()
  if (binary === null) throw new Error('MariaDB server binary not found')
  const dir = mkdtempSync(join(tmpdir(), 'chat-mariadb-'))
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir)
  const port = await freePort()
  const args = [
    '--no-defaults',
    `--datadir=${dataDir}`,
    `--socket=${join(dir, 'sock')}`,
    `--pid-file=${join(dir, 'pid')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-grant-tables',
    '--skip-name-resolve',
    '--skip-log-bin',
    '--performance-schema=OFF',
    '--innodb-buffer-pool-size=32M',
    '--innodb-log-file-size=8M',
    // Containers often forbid io_setup; plain I/O is plenty for a test.
    '--innodb-use-native-aio=0',
    '--max-connections=300',
    // As root the server refuses to start unless told to run as root.
    ...(process.getuid?.() === 0 ? ['--user=root'] : [])
  ]
  let out = ''
  let child: ChildProcess | null = null
  let exited: Promise<void> = Promise.resolve()

  const start = async (): Promise<void> => {
    if (child !== null) throw new Error('private MariaDB is already running')
    const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString() })
    proc.stderr?.on('data', (d: Buffer) => { out += d.toString() })
    child = proc
    // Should the test process die without its teardown, take the server along.
    const orphan = (): void => { proc.kill('SIGKILL') }
    process.once('exit', orphan)
    exited = new Promise(resolve => proc.once('exit', () => {
      process.removeListener('exit', orphan)
      if (child === proc) child = null
      resolve()
    }))
    const deadline = Date.now() + (options.startTimeoutMs ?? 30000)
    for (;;) {
      if (child !== proc) throw new Error(`private MariaDB exited while starting:\n${out.slice(-3000)}`)
      if (await answers(port)) return
      if (Date.now() > deadline) {
        proc.kill('SIGKILL')
        throw new Error(`private MariaDB did not answer:\n${out.slice(-3000)}`)
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  const signal = async (name: NodeJS.Signals): Promise<void> => {
    const proc = child
    if (proc === null) return
    proc.kill(name)
    await exited
  }

  t.teardown(async () => {
    await signal('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  await start()

  return {
    port,
    url: (database) => `mysql://root@127.0.0.1:${port}/${database}`,
    createDatabase: async (name) => {
      const conn = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' })
      await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
      await conn.end()
      return `mysql://root@127.0.0.1:${port}/${name}`
    },
    stop: async () => { await signal('SIGTERM') },
    crash: async () => { await signal('SIGKILL') },
    start,
    running: () => child !== null,
    output: () => out
  }
}
