import t from 'tap'
import { getRequest, headerOf, WireClient } from '../helpers/raw-http.js'
import { buildTestApp, listenOn } from '../helper.js'

// A body over the limit is answered before it is read. The rest of a body of
// declared length is then read and dropped, so a proxy still sending it gets
// the answer rather than a reset (src/http/early-answer.ts). Real sockets.

const registerHead = (length: number, extra = ''): string =>
  `POST /api/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}Content-Length: ${length}\r\n\r\n`

t.test('a refused body of declared length: answered at once, the rest read, the connection kept', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '1024' })
  const base = await listenOn(app)
  const client = await WireClient.open(base)
  t.teardown(() => client.socket.destroy())
  const body = JSON.stringify({ username: 'someone', password: 'x'.repeat(200000) })
  // Half the body, as a proxy that is still forwarding it: the answer must not wait for the rest.
  client.write(registerHead(Buffer.byteLength(body)) + body.slice(0, 60000))
  const refused = await client.answer()
  t.match(refused.statusLine, / 413 /, 'the app\'s own 413')
  t.equal(JSON.parse(refused.body).error.code, 'too_large')
  t.not(headerOf(refused, 'connection')?.toLowerCase(), 'close', 'the connection is not closed under the sender')
  client.write(body.slice(60000))
  client.write(getRequest('/api/health'))
  const next = await client.answer()
  t.match(next.statusLine, / 200 /, 'the next request on the same connection is answered')
  t.same(JSON.parse(next.body), { status: 'ok' })
})

t.test('a refused body of unknown length still closes the connection', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '1024' })
  const base = await listenOn(app)
  const client = await WireClient.open(base)
  t.teardown(() => client.socket.destroy())
  const chunk = 'x'.repeat(4000)
  client.write('POST /api/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `${chunk.length.toString(16)}\r\n${chunk}\r\n`)
  const refused = await client.answer()
  t.match(refused.statusLine, / 413 /)
  t.equal(headerOf(refused, 'connection')?.toLowerCase(), 'close', 'nothing says where its end is: the server closes')
  const closed = await Promise.race([client.closed.then(() => true), new Promise<false>(resolve => setTimeout(() => resolve(false), 5000))])
  t.ok(closed, 'and the connection closed within 5 s')
})

t.test('a declared length over the discard cap still closes the connection', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '1024' })
  const base = await listenOn(app)
  const client = await WireClient.open(base)
  t.teardown(() => client.socket.destroy())
  client.write(registerHead(64 * 1024 * 1024) + 'x'.repeat(1000))
  const refused = await client.answer()
  t.match(refused.statusLine, / 413 /)
  t.equal(headerOf(refused, 'connection')?.toLowerCase(), 'close', '64 MiB is not read to keep one connection')
})

t.test('a refused body on a connection its client will close: the answer comes once the body is read, with no reset', async t => {
  const app = await buildTestApp(t, { BODY_LIMIT: '1024' })
  const base = await listenOn(app)
  const client = await WireClient.open(base)
  t.teardown(() => client.socket.destroy())
  const errors: string[] = []
  client.socket.on('error', (err: NodeJS.ErrnoException) => { errors.push(err.code ?? err.message) })
  const body = JSON.stringify({ username: 'someone', password: 'x'.repeat(200000) })
  // As nginx forwards a body by default: `Connection: close`, and the body still on its way.
  client.write(registerHead(Buffer.byteLength(body), 'Connection: close\r\n') + body.slice(0, 60000))
  const answer = client.answer()
  await new Promise(resolve => setTimeout(resolve, 300))
  const rest = await new Promise<Error | null | undefined>(resolve => client.socket.write(body.slice(60000), resolve))
  t.equal(rest ?? null, null, 'the rest of the body could still be written')
  const refused = await answer
  t.match(refused.statusLine, / 413 /, 'the app\'s own 413')
  t.equal(JSON.parse(refused.body).error.code, 'too_large')
  await client.closed
  t.same(errors, [], 'the connection ends without a reset: the sender could write its whole body')
})
