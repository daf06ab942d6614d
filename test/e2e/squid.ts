import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../helpers/server-process.js'

// Debian's Squid as a corporate forward proxy between the browser and the
// app, with its own configuration, port and folder: it gives up on a response
// that stays silent for `readTimeoutS` and answers the browser with its own
// 504 page, as the proxies of many companies do.

interface Teardown { teardown (fn: () => unknown): void }

export interface Squid {
  /** http://127.0.0.1:PORT, for the browser's --proxy-server. */
  url: string
  /** What Squid logged: one line per request (status, duration in ms, URL). */
  accessLog: () => string
}

export async function startSquid (t: Teardown, { readTimeoutS }: { readTimeoutS: number }): Promise<Squid> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-squid-'))
  // Squid drops to its own user when started as root: it must write its logs here.
  chmodSync(dir, 0o777)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  writeFileSync(join(dir, 'squid.conf'), `
http_port 127.0.0.1:${port}
pid_filename ${dir}/squid.pid
access_log stdio:${dir}/access.log
cache_log ${dir}/cache.log
cache_store_log none
coredump_dir ${dir}
pinger_enable off
cache deny all
cache_mem 8 MB
read_timeout ${readTimeoutS} seconds
client_idle_pconn_timeout 5 seconds
shutdown_lifetime 1 seconds
http_access allow localhost
http_access deny all
`)
  const child = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let failed: Error | undefined
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  child.once('error', (err) => { failed = err })
  const exited = new Promise<void>(resolve => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  t.teardown(async () => {
    if (failed === undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  const read = (name: string): string => existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : ''
  const deadline = Date.now() + 20000
  while (!await listening(port)) {
    if (failed !== undefined) throw new Error(`squid could not be started (${failed.message}); run .ci/install-proxies.sh`)
    if (child.exitCode !== null) throw new Error(`squid exited early (${child.exitCode}):\n${out}${read('cache.log')}`)
    if (Date.now() > deadline) throw new Error(`squid did not come up:\n${out}${read('cache.log')}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { url: `http://127.0.0.1:${port}`, accessLog: () => read('access.log') }
}

async function listening (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}
