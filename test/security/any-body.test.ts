import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { buildTestApp, testSecret } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { startServerProcess } from '../helpers/server-process.js'
import { appRoutes } from './world.js'

/*
 * No body, sent to any route with any content type, may end the process. A
 * real server process (not inject): what is under test is that the process
 * survives, so the answer to each request matters less than the health check
 * after them all. Each request is written byte for byte on its own socket, so
 * declared lengths can lie.
 */

interface Answer { status: number | null, head: string }

/** Writes `head` and `body` on a fresh socket; the status line of the answer, or null when the server just closed. */
async function raw (port: number, head: string, body: Buffer, endEarly = false): Promise<Answer> {
  return await new Promise(resolve => {
    const socket = connect(port, '127.0.0.1')
    let got = ''
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got)
      resolve({ status: m === null ? null : Number(m[1]), head: got.slice(0, 400) })
    }
    const timer = setTimeout(done, 8000)
    socket.on('data', d => { got += d.toString('latin1'); if (/\r\n\r\n/.test(got)) setTimeout(done, 50) })
    socket.on('error', done)
    socket.on('close', done)
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]))
    // Hanging up mid-body: no answer is owed, so stop waiting soon.
    if (endEarly) setTimeout(done, 100)
  })
}

const contentTypes = [
  null,
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'text/html',
  '%%%;;;=='
]

/** Bodies no route may choke on: noise, UTF-8 cut inside a character, bad bytes inside JSON, forms and text. */
const bodies = (): Array<[string, Buffer]> => [
  ['random bytes', randomBytes(200)],
  ['truncated 2-byte sequence', Buffer.from([...Buffer.from('{"text":"caf'), 0xc3])],
  ['truncated 3-byte sequence in a form', Buffer.from([...Buffer.from('text=x&name='), 0xe2, 0x82])],
  ['truncated 4-byte sequence', Buffer.from([...Buffer.from('hello '), 0xf0, 0x9f, 0x98])],
  ['bad byte inside JSON', Buffer.from([...Buffer.from('{"text":"a'), 0xff, ...Buffer.from('b","name":"x"}')])],
  ['random bytes after a valid start', Buffer.concat([Buffer.from('{"text":"'), randomBytes(3000)])]
]

t.test('any body to any route, any content type: the process lives and stays healthy', async t => {
  // The routes come from the app itself, so a new route is fuzzed without edits here.
  const listing = await buildTestApp(t, {}, await createTestDatabase(t))
  const known = appRoutes(listing).filter(r => !r.endsWith(' *'))
  await listing.close()

  const database = await createTestDatabase(t)
  const server = await startServerProcess(t, {
    DATA_DIR: database.dataDir,
    DATABASE_URL: database.databaseUrl,
    SESSION_SECRET: testSecret,
    REQUEST_TIMEOUT: '3',
    BODY_LIMIT: '4096'
  }, { timeoutMs: 60000 })
  const reg = await fetch(`${server.url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'survivor', password: 'correct horse battery' }) })
  t.equal(reg.status, 201)
  const cookie = (reg.headers.get('set-cookie') ?? '').split(';')[0] as string
  const room = await fetch(`${server.url}/api/rooms`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'den' }) })
  t.equal(room.status, 201)

  const fill = (path: string): string => path.replace(':room', 'den').replace(':id', '1').replace(/:\w+/g, 'x')
  const targets: Array<[string, string]> = known.map(r => { const [m, p] = r.split(' ') as [string, string]; return [m, fill(p)] })
  // Unknown routes and methods are where the crash lived: nothing reads their bodies.
  for (const path of ['/api/nothing', '/nothing', '/', '/api/rooms/den/unknown', '/api/%zz', '/api']) targets.push(['POST', path])
  for (const [method, path] of [...targets]) if (method !== 'POST') targets.push(['POST', path])

  let failures = 0
  let requests = 0
  const port = server.port
  for (const [method, path] of targets) {
    for (const type of contentTypes) {
      for (const [label, body] of bodies()) {
        // Signed in or not, alternately: both reach the body parsers of public routes and unknown ones.
        for (const credentials of [requests % 2 === 0 ? '' : `Cookie: ${cookie}\r\n`]) {
          const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n${credentials}` +
            (type === null ? '' : `Content-Type: ${type}\r\n`) + `Content-Length: ${body.length}\r\n\r\n`
          const answer = await raw(port, head, body)
          requests++
          if (answer.status === null || answer.status >= 500) {
            failures++
            t.fail(`${method} ${path} ${type ?? '(no type)'} ${label}: ${answer.head.split('\r\n')[0] ?? 'no answer'}`)
            if (server.child.exitCode !== null) {
              t.fail(`the process exited after that request:\n${server.output().slice(-2000)}`)
              return
            }
          }
        }
      }
    }
  }
  t.equal(failures, 0, `${requests} requests, every one answered below 500`)
  t.equal(server.child.exitCode, null, 'the process is still running')

  t.test('lying and huge declared lengths', async t => {
    for (const [method, path] of targets) {
      for (const type of ['application/json', 'text/plain', 'application/octet-stream']) {
        const base = `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: ${cookie}\r\nContent-Type: ${type}\r\n`
        const huge = await raw(port, `${base}Content-Length: 99999999999999\r\n\r\n`, randomBytes(100))
        t.ok(huge.status !== null && huge.status < 500, `${method} ${path} ${type}: huge length answered ${huge.status ?? 'nothing'}`)
        // Claims more than it sends, then hangs up mid-character: no answer is owed, no crash allowed.
        await raw(port, `${base}Content-Length: 3000\r\n\r\n`, Buffer.from([...Buffer.from('{"text":"'), 0xe2]), true)
        const chunked = await raw(port, `${base}Transfer-Encoding: chunked\r\n\r\n`, Buffer.from('5\r\n{"tex\r\nZZ\r\n'))
        t.ok(chunked.status === null || chunked.status < 500, `${method} ${path} ${type}: broken chunked`)
      }
    }
    t.equal(server.child.exitCode, null, 'the process is still running')
  })

  t.test('afterwards: healthy, and the user is still signed in and can send', async t => {
    t.equal((await fetch(`${server.url}/api/health`)).status, 200)
    t.equal((await fetch(`${server.url}/api/me`, { headers: { cookie } })).status, 200)
    const sent = await fetch(`${server.url}/api/rooms/den/messages`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ text: 'still here' }) })
    t.equal(sent.status, 201)
    t.notMatch(server.output(), /shutting down after an error|uncaught/i, 'no uncaught error was logged')
  })
})
