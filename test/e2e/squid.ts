import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort, spawnChild, untilReady, workFolder } from '../helpers/server-process.js'

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
  // Squid drops to its own user when started as root: it must write its logs here.
  const dir = workFolder(t, 'chat-squid-', 0o777)
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
  const squid = spawnChild(t, 'squid', ['-N', '-f', join(dir, 'squid.conf')])
  const read = (name: string): string => existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : ''
  await untilReady('squid', squid, async () => await listening(port), { timeoutMs: 20000, log: () => squid.output() + read('cache.log') })
  return { url: `http://127.0.0.1:${port}`, accessLog: () => read('access.log') }
}

async function listening (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}
