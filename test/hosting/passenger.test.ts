import t from 'tap'
import http from 'node:http'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passengerListenTarget } from '../../src/hosting/passenger.js'
import { createTestDatabase } from '../helpers/database.js'
import { projectRoot, request, sessionCookie, SESSION_SECRET } from './harness.js'

// What cPanel's and Plesk's Node.js support does: Phusion Passenger's loader
// defines a global PhusionPassenger, patches http.Server.prototype.listen and
// require()s the startup file. The stand-in below copies the parts of
// Passenger's helper-scripts/node-loader.js that an app meets: listen()
// interception (only the string 'passenger' is recognised), a unix socket of
// Passenger's choosing, remoteAddress forced to 127.0.0.1, and shutdown by
// closing stdin (an 'exit' event, else process.exit(0)).
const STAND_IN = String.raw`'use strict'
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

t.test('passengerListenTarget', async t => {
  t.test('is null outside Passenger', async t => {
    t.equal(passengerListenTarget(), null)
  })

  t.test('under Passenger: turns off auto-install and answers the path', async t => {
    const own = Object.getOwnPropertyDescriptor(http.Server.prototype, 'listen')
    const calls: unknown[][] = []
    const configured: unknown[] = []
    let exitListener: (() => void) | undefined
    const g = globalThis as { PhusionPassenger?: unknown }
    g.PhusionPassenger = {
      configure (options: unknown) {
        configured.push(options)
        // What Passenger does with autoInstall: false.
        Object.defineProperty(http.Server.prototype, 'listen', {
          configurable: true, writable: true, value (...args: unknown[]) { calls.push(args); return this }
        })
      },
      on (event: string, listener: () => void) { if (event === 'exit') exitListener = listener }
    }
    t.teardown(() => {
      delete g.PhusionPassenger
      if (own === undefined) delete (http.Server.prototype as { listen?: unknown }).listen
      else Object.defineProperty(http.Server.prototype, 'listen', own)
    })

    t.same(passengerListenTarget(), { path: 'passenger' })
    t.same(configured, [{ autoInstall: false }])
    const server = http.createServer()
    server.listen({ path: 'passenger', host: undefined })
    server.listen(8080, '127.0.0.1')
    t.same(calls, [['passenger'], [8080, '127.0.0.1']],
      'Fastify\'s listen({ path: \'passenger\' }) reaches Passenger as listen(\'passenger\')')
    t.type(exitListener, 'function', 'listens for Passenger\'s shutdown')
  })
})

t.test('app.cjs under a stand-in for Passenger\'s loader', async t => {
  const appRoot = buildAppRoot(t)
  const db = await createTestDatabase(t)
  const env = {
    DATABASE_URL: db.databaseUrl,
    DATA_DIR: db.dataDir,
    SESSION_SECRET,
    BASE_PATH: '/chat',
    TRUST_PROXY: '127.0.0.1',
    LOG_LEVEL: 'warn'
  }

  const a = await startUnderPassenger(t, appRoot, env, 'a')
  const b = await startUnderPassenger(t, appRoot, env, 'b')
  const at = (p: Passenger, path: string, options: Parameters<typeof request>[1] = {}): ReturnType<typeof request> =>
    request(`http://localhost/chat${path}`, { ...options, socketPath: p.socket })

  let cookie = ''
  t.test('two processes serve the same app at once', async t => {
    for (const p of [a, b]) {
      const health = await at(p, '/api/health')
      t.equal(health.status, 200, `${p.name}: ${health.text}`)
    }
    const registered = await at(a, '/api/register', { body: { username: 'hoster', password: 'shared hosting rocks' } })
    t.equal(registered.status, 201, registered.text)
    cookie = sessionCookie(registered)
    const room = await at(a, '/api/rooms', { body: { name: 'cpanel' }, headers: { cookie } })
    t.equal(room.status, 201, room.text)
    const me = await at(b, '/api/me', { headers: { cookie } })
    t.equal(me.status, 200, `a session made by one process works on the other: ${me.text}`)
  })

  t.test('a cursorless poll on one process starts at the head committed on the other', async t => {
    // API.md: without a cursor the answer is "the current head". A client that
    // loads history from one process and takes its starting cursor from another
    // would otherwise be sent again what it already shows.
    const sent = await at(a, '/api/rooms/cpanel/messages', { body: { text: 'head check' }, headers: { cookie } })
    t.equal(sent.status, 201, sent.text)
    const head = await at(b, '/api/poll', { headers: { cookie } })
    t.equal(head.status, 200, head.text)
    t.ok(Number(head.json?.cursor) >= Number(sent.json?.event?.id),
      `the head from b (${head.text}) is not before the message a committed (${sent.text})`)
  })

  t.test('a send on one process wakes a poll held by the other', async t => {
    // Catch up first: the events of the room's creation on process a may
    // still be on their way to b's feed.
    let cursor = String((await at(b, '/api/poll', { headers: { cookie } })).json?.cursor)
    for (;;) {
      const drained = await at(b, `/api/poll?cursor=${encodeURIComponent(cursor)}&timeout=1`, { headers: { cookie } })
      t.equal(drained.status, 200, drained.text)
      if (drained.status !== 200 || drained.json?.events?.length === 0) break
      cursor = String(drained.json?.cursor)
    }
    const held = at(b, `/api/poll?cursor=${encodeURIComponent(cursor)}&timeout=20`, { headers: { cookie } })
    await new Promise(resolve => setTimeout(resolve, 300))
    const sent = await at(a, '/api/rooms/cpanel/messages', { body: { text: 'from process a' }, headers: { cookie } })
    t.equal(sent.status, 201, sent.text)
    const woken = await held
    t.equal(woken.status, 200, woken.text)
    t.ok(woken.json?.events?.some((e: { text?: string }) => e.text === 'from process a'), woken.text)
  })

  t.test('no stray socket file: listen reached Passenger', async t => {
    t.notOk(existsSync(join(appRoot, 'passenger')), 'nothing listens on ./passenger')
  })

  t.test('SIGTERM stops a process cleanly', async t => {
    a.child.kill('SIGTERM')
    t.equal(await a.exited, 0, `exit code 0\n${a.output()}`)
    t.notOk(existsSync(a.socket), 'the socket is removed')
    const health = await at(b, '/api/health')
    t.equal(health.status, 200, 'the other process goes on')
  })

  t.test('Passenger\'s own stop (stdin closed) is a clean shutdown too', async t => {
    b.child.stdin?.end()
    t.equal(await b.exited, 0, `exit code 0\n${b.output()}`)
  })

  t.test('a restarted process picks up where they left off', async t => {
    const c = await startUnderPassenger(t, appRoot, env, 'c')
    const history = await at(c, '/api/rooms/cpanel/messages', { headers: { cookie } })
    t.equal(history.status, 200, history.text)
    t.same(history.json?.events?.map((e: { text: string }) => e.text), ['head check', 'from process a'])
    c.child.kill('SIGTERM')
    t.equal(await c.exited, 0, c.output())
  })
})

interface Passenger {
  name: string
  socket: string
  child: ChildProcess
  exited: Promise<number | null>
  output: () => string
}

/**
 * An app folder as a host has it: the startup file, package.json and a fresh
 * build in dist/, with the dependencies and the schema files beside them.
 */
function buildAppRoot (t: { teardown: (fn: () => unknown) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'chat-passenger-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  copyFileSync(join(projectRoot, 'app.cjs'), join(root, 'app.cjs'))
  copyFileSync(join(projectRoot, 'package.json'), join(root, 'package.json'))
  for (const shared of ['node_modules', 'sql', 'public']) {
    if (existsSync(join(projectRoot, shared))) symlinkSync(join(projectRoot, shared), join(root, shared))
  }
  const tsc = spawnSync(process.execPath, [join(projectRoot, 'node_modules/typescript/bin/tsc'),
    '-p', join(projectRoot, 'tsconfig.build.json'), '--outDir', join(root, 'dist'), '--sourceMap', 'false'], { encoding: 'utf8' })
  if (!existsSync(join(root, 'dist/server.js'))) {
    throw new Error(`the build made no dist/server.js:\n${tsc.stdout}${tsc.stderr}`)
  }
  writeFileSync(join(root, 'passenger-stand-in.cjs'), STAND_IN)
  return root
}

async function startUnderPassenger (
  t: { teardown: (fn: () => unknown) => void },
  appRoot: string,
  env: Record<string, string | undefined>,
  name: string
): Promise<Passenger> {
  const socket = join(appRoot, `PsgNodeApp.${name}`)
  const child = spawn(process.execPath, [join(appRoot, 'passenger-stand-in.cjs')], {
    cwd: appRoot,
    env: { ...process.env, ...env, STANDIN_SOCKET: socket, STANDIN_STARTUP_FILE: join(appRoot, 'app.cjs') },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const deadline = Date.now() + 20000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process ${name} exited early (${child.exitCode}):\n${out}`)
    if (out.includes(`!> socket: main;unix:${socket}`)) {
      try {
        const res = await request('http://localhost/chat/api/health', { socketPath: socket, timeoutMs: 2000 })
        if (res.status === 200) break
      } catch { /* not answering yet */ }
    }
    if (Date.now() > deadline) throw new Error(`process ${name} never listened on Passenger's socket:\n${out}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { name, socket, child, exited, output: () => out }
}
