import { spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, spawnChild, untilReady, workFolder } from '../helpers/server-process.js'
import { apacheServerConfig, isRoot } from './apache-config.js'
import { request } from './harness.js'

/*
 * The app under Phusion Passenger, as cPanel and Plesk run it. Where Debian's
 * libapache2-mod-passenger is installed (.ci/install-proxies.sh installs it),
 * the real module inside a real Apache; elsewhere a stand-in for Passenger's
 * Node.js loader, which covers less (no Apache, no restart.txt, no process
 * management) and is only the fallback.
 */

interface Teardown { teardown (fn: () => unknown): void }

const modPassenger = '/usr/lib/apache2/modules/mod_passenger.so'
const passengerLocations = '/usr/lib/ruby/vendor_ruby/phusion_passenger/locations.ini'

/** Whether the real module can run here; the reason when it cannot. */
export function realPassenger (): { ok: true } | { ok: false, why: string } {
  if (!existsSync(modPassenger) || !existsSync(passengerLocations)) {
    return { ok: false, why: 'libapache2-mod-passenger is not installed (.ci/install-proxies.sh installs it)' }
  }
  if (spawnSync('apache2', ['-v']).status !== 0) return { ok: false, why: 'apache2 is not installed' }
  return { ok: true }
}

/**
 * Makes a folder and its files reachable for the unprivileged user Apache and
 * Passenger switch to when the tests run as root.
 */
export function openUp (dir: string, mode = 0o755): void {
  if (isRoot()) chmodSync(dir, mode)
}

export interface ApachePassenger {
  /** http://127.0.0.1:PORT plus the base URI, without a trailing slash. */
  url: string
  origin: string
  /** Apache's and Passenger's logs, for failure messages. */
  log: () => string
  /** `touch tmp/restart.txt` in the app root: Passenger replaces the processes on the next request. */
  requestRestart: () => void
  /** The pids of the app processes Passenger runs now. */
  appPids: () => number[]
  /** Apache's graceful stop; resolves when Apache and the app processes are gone. */
  stop: () => Promise<void>
}

export interface ApachePassengerOptions {
  appRoot: string
  /** SetEnv lines, as cPanel writes the panel's variables. */
  env: Record<string, string>
  /** PassengerBaseURI (cPanel's Application URL path); '/' for the root of the site. */
  baseUri?: string
  /** The DocumentRoot: an empty folder as cPanel has it, or the app's public/ as Plesk's default. */
  documentRoot?: string
  processes?: number
}

/** Debian's Apache in the foreground with mod_passenger serving `appRoot`, laid out as cPanel does. */
export async function startApachePassenger (t: Teardown, options: ApachePassengerOptions): Promise<ApachePassenger> {
  const dir = workFolder(t, 'chat-passenger-apache-', isRoot() ? 0o755 : undefined)
  const port = await freePort()
  const baseUri = options.baseUri ?? '/chat'
  const documentRoot = options.documentRoot ?? join(dir, 'htdocs')
  mkdirSync(documentRoot, { recursive: true })
  const processes = options.processes ?? 2
  const setEnv = Object.entries(options.env).map(([k, v]) => `  SetEnv ${k} "${v.replaceAll('"', '\\"')}"`).join('\n')
  writeFileSync(join(dir, 'httpd.conf'), `
${apacheServerConfig(dir, [port], ['headers', 'env', 'mime', 'dir', 'passenger'])}
TypesConfig /etc/mime.types
DirectoryIndex index.html
<FilesMatch "^\\.ht">
  Require all denied
</FilesMatch>
PassengerRoot ${passengerLocations}
PassengerDefaultRuby /usr/bin/ruby
PassengerInstanceRegistryDir ${dir}
PassengerLogFile ${dir}/passenger.log
PassengerDisableSecurityUpdateCheck on
PassengerDisableAnonymousTelemetry on
PassengerMaxPoolSize ${processes}
<VirtualHost 127.0.0.1:${port}>
  DocumentRoot ${documentRoot}
  <Directory ${documentRoot}>
    AllowOverride All
    Require all granted
  </Directory>
  PassengerAppRoot ${options.appRoot}
  PassengerAppType node
  PassengerStartupFile app.cjs
  ${baseUri === '/' ? '' : `PassengerBaseURI ${baseUri}`}
  PassengerMinInstances ${processes}
  PassengerFriendlyErrorPages on
${setEnv}
</VirtualHost>
`)
  // Passenger hands Apache's environment to the app: keep the test runner's
  // coverage hook out of it (tap puts it back into NODE_OPTIONS on every spawn,
  // hence env -u), or the app processes fail writing tap's files as www-data.
  const startApache = (): ReturnType<typeof spawnChild> => spawnChild(t, 'env', ['-u', 'NODE_OPTIONS', 'apache2', '-DFOREGROUND', '-f', join(dir, 'httpd.conf')])
  let apache = startApache()
  const fileText = (name: string): string => existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : ''
  const log = (): string => `${apache.output()}${fileText('error.log')}${fileText('passenger.log')}`.slice(-6000)
  const appPids = (): number[] => {
    // The processes whose working folder is the app root and whose command is node.
    const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    return ps.stdout.split('\n').filter(l => /Passenger NodeApp|node/.test(l) && l.includes(options.appRoot))
      .map(l => Number(l.trim().split(/\s+/)[0])).filter(n => Number.isInteger(n) && n > 0)
  }
  const stop = async (): Promise<void> => {
    await apache.stop()
    // Passenger's watchdog takes the app processes down after Apache; wait for that.
    const deadline = Date.now() + 15000
    while (appPids().length > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.teardown(async () => {
    await stop()
    for (const pid of appPids()) { try { process.kill(pid, 'SIGKILL') } catch {} }
  })
  const origin = `http://127.0.0.1:${port}`
  const url = `${origin}${baseUri === '/' ? '' : baseUri}`
  const healthy = async (): Promise<boolean> => (await request(`${url}/api/health`, { timeoutMs: 30000 })).status === 200
  try {
    await untilReady('apache2 with Passenger', apache, healthy, { timeoutMs: 90000, intervalMs: 200, log })
  } catch (err) {
    // Debian's Apache with mod_passenger now and then aborts while starting ("double free or corruption",
    // SIGABRT, seen on a busy machine, before any request): that is the host's bug, not the app's. Once more.
    if (apache.child.signalCode !== 'SIGABRT') throw err
    await stop()
    apache = startApache()
    await untilReady('apache2 with Passenger', apache, healthy, { timeoutMs: 90000, intervalMs: 200, log })
  }
  return {
    url,
    origin,
    log,
    requestRestart: () => {
      mkdirSync(join(options.appRoot, 'tmp'), { recursive: true })
      writeFileSync(join(options.appRoot, 'tmp/restart.txt'), String(Date.now()))
    },
    appPids,
    stop
  }
}

// The fallback: a stand-in for what Passenger's helper-scripts/node-loader.js
// does to an app: defines a global PhusionPassenger, patches
// http.Server.prototype.listen (only the string 'passenger' is recognised
// after configure({ autoInstall: false })), listens on a unix socket of its
// choosing, forces remoteAddress to 127.0.0.1, and shuts down by closing stdin
// (an 'exit' event, else process.exit(0)).
export const STAND_IN = String.raw`'use strict'
const http = require('node:http')
const fs = require('node:fs')
const { EventEmitter } = require('node:events')

const socketPath = process.env.STANDIN_SOCKET
const PhusionPassenger = global.PhusionPassenger = new EventEmitter()
const originalListen = http.Server.prototype.listen
let installed = false

function installServer () {
  if (installed) throw new Error('http.Server.listen() was called more than once')
  installed = true
  const server = this
  const callback = arguments.length > 1 && typeof arguments[arguments.length - 1] === 'function'
    ? arguments[arguments.length - 1]
    : undefined
  server.prependListener('request', (req) => {
    Object.defineProperty(req.socket, 'remoteAddress', { configurable: true, get: () => '127.0.0.1' })
  })
  originalListen.call(server, socketPath, () => {
    if (callback) server.once('listening', callback)
    server.emit('listening')
    process.stdout.write('!> socket: main;unix:' + socketPath + '\n')
  })
  return server
}

http.Server.prototype.listen = installServer
PhusionPassenger.configure = (options) => {
  if (options.autoInstall === false) {
    http.Server.prototype.listen = function (port) {
      if (port === 'passenger' || port == '/passenger') return installServer.apply(this, arguments)
      return originalListen.apply(this, arguments)
    }
  }
}

process.stdin.on('end', () => {
  try { fs.unlinkSync(socketPath) } catch {}
  if (PhusionPassenger.listeners('exit').length > 0) PhusionPassenger.emit('exit')
  else process.exit(0)
})
process.stdin.resume()
require(process.env.STANDIN_STARTUP_FILE)
`

export interface StandInProcess {
  name: string
  socket: string
  child: ChildProcess
  exited: Promise<number | null>
  output: () => string
}

/** One app process under the stand-in loader, answering on its own unix socket. */
export async function startUnderStandIn (
  t: Teardown,
  appRoot: string,
  env: Record<string, string | undefined>,
  name: string,
  basePath = '/chat'
): Promise<StandInProcess> {
  const loader = join(appRoot, 'passenger-stand-in.cjs')
  if (!existsSync(loader)) writeFileSync(loader, STAND_IN)
  const socket = join(appRoot, `PsgNodeApp.${name}`)
  // Passenger ends an app by closing its stdin: it stays open (a pipe) until then.
  const proc = spawnChild(t, process.execPath, [loader], {
    cwd: appRoot,
    env: { ...process.env, ...env, STANDIN_SOCKET: socket, STANDIN_STARTUP_FILE: join(appRoot, 'app.cjs') },
    stdin: 'pipe',
    stopSignal: 'SIGKILL'
  })
  await untilReady(`process ${name}`, proc, async () => proc.output().includes(`!> socket: main;unix:${socket}`) &&
    (await request(`http://localhost${basePath}/api/health`, { socketPath: socket, timeoutMs: 2000 })).status === 200, { timeoutMs: 60000 })
  return { name, socket, child: proc.child, exited: proc.exited, output: proc.output }
}
