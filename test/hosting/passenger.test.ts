import t, { type Test } from 'tap'
import http from 'node:http'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passengerListenTarget } from '../../src/hosting/passenger.js'
import { createTestDatabase } from '../helpers/database.js'
import { projectRoot, request, sessionCookie, SESSION_SECRET } from './harness.js'
import { openUp, realPassenger, startApachePassenger, startUnderStandIn, type StandInProcess } from './passenger-harness.js'
import { BoshClient } from '../xmpp/bosh-client.js'
import { documentHeaderList } from '../../src/http/security-headers.js'
import { loadConfig } from '../../src/config.js'

type Tap = Test

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

async function standInSuite (t: Tap): Promise<void> {
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

  const a = await startUnderStandIn(t, appRoot, env, 'a')
  const b = await startUnderStandIn(t, appRoot, env, 'b')
  const at = (p: StandInProcess, path: string, options: Parameters<typeof request>[1] = {}): ReturnType<typeof request> =>
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
    const c = await startUnderStandIn(t, appRoot, env, 'c')
    const history = await at(c, '/api/rooms/cpanel/messages', { headers: { cookie } })
    t.equal(history.status, 200, history.text)
    t.same(history.json?.events?.map((e: { text: string }) => e.text), ['head check', 'from process a'])
    c.child.kill('SIGTERM')
    t.equal(await c.exited, 0, c.output())
  })
}

/**
 * An app folder as a host has it: the startup file, package.json and a fresh
 * build in dist/, with the dependencies and the schema files beside them.
 */
function buildAppRoot (t: { teardown: (fn: () => unknown) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'chat-passenger-'))
  openUp(root)
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
  return root
}

t.test('BASE_PATH defaults to the PASSENGER_BASE_URI Passenger sets', async t => {
  t.equal(loadConfig({ PASSENGER_BASE_URI: '/chat' }, false).basePath, '/chat')
  t.equal(loadConfig({ PASSENGER_BASE_URI: '/' }, false).basePath, '', 'the root of a site is no prefix')
  t.equal(loadConfig({ PASSENGER_BASE_URI: '/chat', BASE_PATH: '/other' }, false).basePath, '/other', 'BASE_PATH wins')
})

const real = realPassenger()
if (real.ok) {
  // Two Apaches, each spawning Passenger and its app processes, on a busy 2-core machine.
  t.setTimeout(480000)
  t.test('app.cjs under real Passenger in Apache, laid out as cPanel does', async t => { await realSuite(t) })
  t.test('Plesk layout: Apache serves public/ from disk with the app\'s security headers', async t => { await pleskLayoutSuite(t) })
} else {
  t.comment(`real Passenger not available (${real.why}): using the stand-in for its loader`)
  t.test('app.cjs under a stand-in for Passenger\'s loader', async t => { await standInSuite(t) })
}

/** The database and the settings cPanel would SetEnv; no BASE_PATH: Passenger's base URI is the default. */
async function panelEnv (t: Tap): Promise<Record<string, string>> {
  const db = await createTestDatabase(t)
  openUp(db.dataDir, 0o777)
  return {
    ...(db.databaseUrl === undefined ? {} : { DATABASE_URL: db.databaseUrl }),
    DATA_DIR: db.dataDir,
    SESSION_SECRET,
    TRUST_PROXY: '127.0.0.1',
    XMPP_DOMAIN: 'chat.test',
    LOG_LEVEL: 'warn'
  }
}

async function realSuite (t: Tap): Promise<void> {
  const appRoot = sharedAppRoot()
  const apache = await startApachePassenger(t, { appRoot, env: await panelEnv(t), processes: 2 })
  const at = async (path: string, options: Parameters<typeof request>[1] = {}): ReturnType<typeof request> =>
    await request(`${apache.url}${path}`, options)

  let cookie = ''
  t.test('every route answers under PassengerBaseURI /chat without BASE_PATH', async t => {
    t.equal((await at('/api/health')).status, 200)
    const page = await at('/')
    t.equal(page.status, 200)
    t.match(page.text, /<html/i)
    const registered = await at('/api/register', { body: { username: 'hoster', password: 'shared hosting rocks' } })
    t.equal(registered.status, 201, registered.text)
    cookie = sessionCookie(registered)
    t.equal((await at('/api/rooms', { body: { name: 'cpanel' }, headers: { cookie } })).status, 201)
  })

  t.test('two app processes, each serving the same users', async t => {
    // PassengerMinInstances 2: the second process is spawned after the first request.
    const deadline = Date.now() + 60000
    while (apache.appPids().length < 2 && Date.now() < deadline) {
      await at('/api/health')
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    t.equal(apache.appPids().length, 2, apache.log())
    for (let i = 0; i < 6; i++) {
      const me = await at('/api/me', { headers: { cookie } })
      t.equal(me.status, 200, me.text)
    }
  })

  t.test('XMPP over BOSH: a session created, signed in and bound through Passenger', async t => {
    const x = new BoshClient(`${apache.url}/http-bind`, 'chat.test')
    const created = await x.create(5)
    t.ok(x.sid, `a session: ${created.toString()}`)
    t.ok((await x.signIn('hoster', 'shared hosting rocks')).startsWith('hoster@chat.test/'), 'SASL PLAIN and binding')
    const joined = await x.post("<presence to='cpanel@conference.chat.test/hoster'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    t.ok(joined.getChildren('message').at(-1)?.getChild('subject'), `joined: ${joined.toString()}`)
  })

  // Passenger routes by how busy its processes are, not by session: while the
  // client's held request occupies one process, its next request often goes to
  // the other. That process rebuilds the session from the database (before
  // sessions were stored, 8 of 8 such requests ended item-not-found in one run).
  t.test('XMPP over BOSH: a request sent while another is held, with two processes', async t => {
    const x = new BoshClient(`${apache.url}/http-bind`, 'chat.test')
    await x.create(5)
    await x.signIn('hoster', 'shared hosting rocks')
    const held = x.postText('', ++x.rid)
    await new Promise(resolve => setTimeout(resolve, 300))
    const sent = await x.postText("<presence to='cpanel@conference.chat.test/hoster'><x xmlns='http://jabber.org/protocol/muc'/></presence>", ++x.rid)
    t.notMatch(sent, /terminate/, `the session is found: ${sent}`)
    t.notMatch(await held, /terminate/, 'and the held request ends normally')
  })

  t.test('a send wakes a held poll through Passenger, each message once', async t => {
    let cursor = String((await at('/api/poll', { headers: { cookie } })).json?.cursor)
    const seen: string[] = []
    for (const text of ['one', 'two', 'three']) {
      const held = at(`/api/poll?cursor=${encodeURIComponent(cursor)}&timeout=20`, { headers: { cookie } })
      await new Promise(resolve => setTimeout(resolve, 300))
      const sent = await at('/api/rooms/cpanel/messages', { body: { text }, headers: { cookie } })
      t.equal(sent.status, 201, sent.text)
      let answer = await held
      // The poll may have been answered with the room's earlier events first.
      while (answer.status === 200 && !answer.json?.events?.some((e: { text?: string }) => e.text === text)) {
        seen.push(...answer.json.events.filter((e: { type: string }) => e.type === 'message').map((e: { text: string }) => e.text))
        answer = await at(`/api/poll?cursor=${encodeURIComponent(String(answer.json.cursor))}&timeout=20`, { headers: { cookie } })
      }
      t.equal(answer.status, 200, answer.text)
      seen.push(...answer.json.events.filter((e: { type: string }) => e.type === 'message').map((e: { text: string }) => e.text))
      cursor = String(answer.json.cursor)
    }
    t.same(seen, ['one', 'two', 'three'])
  })

  t.test('no stray socket file: listen reached Passenger', async t => {
    t.notOk(existsSync(join(appRoot, 'passenger')))
  })

  t.test('tmp/restart.txt: a held poll stays with the old process until it ends; nothing is lost', async t => {
    const before = apache.appPids()
    const cursor = String((await at('/api/poll', { headers: { cookie } })).json?.cursor)
    const started = Date.now()
    const held = at(`/api/poll?cursor=${encodeURIComponent(cursor)}&timeout=8`, { headers: { cookie } })
    await new Promise(resolve => setTimeout(resolve, 300))
    apache.requestRestart()
    // The next request makes Passenger notice restart.txt and start new processes.
    const sent = await at('/api/rooms/cpanel/messages', { body: { text: 'after restart' }, headers: { cookie } })
    t.equal(sent.status, 201, sent.text)
    const answer = await held
    t.equal(answer.status, 200, `the held poll is answered normally: ${answer.text}`)
    const texts = (answer.json?.events ?? []).map((e: { text?: string }) => e.text)
    t.ok(texts.includes('after restart') || Date.now() - started >= 7500,
      `the old process answers with the new message or at its timeout, not at once: ${answer.text}`)
    const deadline = Date.now() + 60000
    while (apache.appPids().some(pid => before.includes(pid)) && Date.now() < deadline) {
      await at('/api/health')
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    t.notOk(apache.appPids().some(pid => before.includes(pid)), 'the old processes are gone')
    const history = await at('/api/rooms/cpanel/messages', { headers: { cookie } })
    t.same(history.json?.events?.map((e: { text: string }) => e.text), ['one', 'two', 'three', 'after restart'])
  })

  t.test('Apache\'s stop ends the app processes', async t => {
    t.ok(apache.appPids().length > 0)
    await apache.stop()
    t.same(apache.appPids(), [], apache.log())
  })
}

async function pleskLayoutSuite (t: Tap): Promise<void> {
  const appRoot = sharedAppRoot()
  // Plesk: the document root is the app's public/ folder and the app has the whole (sub)domain.
  const apache = await startApachePassenger(t, {
    appRoot, env: await panelEnv(t), baseUri: '/', documentRoot: join(appRoot, 'public'), processes: 1
  })
  const expected = appSecurityHeaders()
  t.ok(Object.keys(expected).length >= 5)
  for (const path of ['/', '/index.html', '/app.js', '/style.css']) {
    t.test(`${path} carries the app's security headers`, async t => {
      const answer = await request(`${apache.url}${path}`)
      t.equal(answer.status, 200)
      for (const [name, value] of Object.entries(expected)) t.equal(answer.headers[name], value, name)
    })
  }
  t.test('the API still works in this layout, and .htaccess is not served', async t => {
    t.equal((await request(`${apache.url}/api/health`)).status, 200)
    t.equal((await request(`${apache.url}/.htaccess`)).status, 403)
  })
  t.test('public/.htaccess names exactly the app\'s headers', async t => {
    const names = [...readFileSync(join(projectRoot, 'public/.htaccess'), 'utf8').matchAll(/Header always set ([\w-]+)/g)]
      .map(m => (m[1] ?? '').toLowerCase()).sort()
    t.same(names, Object.keys(expected).sort())
  })
}

let appRootBuilt: string | undefined
/** One build for the file's suites: compiling takes a while on a small machine. */
function sharedAppRoot (): string {
  appRootBuilt ??= buildAppRoot(t)
  return appRootBuilt
}

/** The headers the app puts on its pages, scripts and styles, from the app's own code. */
function appSecurityHeaders (): Record<string, string> {
  return Object.fromEntries(documentHeaderList)
}
