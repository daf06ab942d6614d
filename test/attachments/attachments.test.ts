import t from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { as, buildTestApp, register, type Session } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { chunkBytes } from '../../src/attachments/store.js'
import { png } from './images.js'

interface FilePart { field?: string, name: string, type: string, data: Buffer }
type Part = FilePart | { field: string, value: string }

/** A multipart/form-data body as browsers send it. */
function multipart (parts: Part[]): { payload: Buffer, headers: Record<string, string> } {
  const boundary = `----test${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`))
    if ('value' in p) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.field}"\r\n\r\n${p.value}\r\n`))
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.field ?? 'file'}"; filename="${p.name}"\r\nContent-Type: ${p.type}\r\n\r\n`), p.data, Buffer.from('\r\n'))
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

const upload = async (app: FastifyInstance, who: Session, room: string, parts: Part[]): Promise<LightMyRequestResponse> => {
  const body = multipart(parts)
  return await app.inject({ method: 'POST', url: `/api/rooms/${room}/attachments`, headers: { cookie: who.cookie, ...body.headers }, payload: body.payload })
}
const download = async (app: FastifyInstance, who: Session | null, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  await app.inject({ method: 'GET', url: `/${url}`, headers: { ...(who === null ? {} : { cookie: who.cookie }), ...headers } })

for (const store of ['folder', 'database'] as const) {
  t.test(`attachments in the ${store} store`, async t => {
    const database = await createTestDatabase(t)
    const maxBytes = chunkBytes + 40000
    const app = await buildTestApp(t, { ATTACHMENT_STORE: store, ATTACHMENT_MAX_BYTES: String(maxBytes), ATTACHMENT_QUOTA_BYTES: String(4 * maxBytes) }, database)
    const { db } = app.database
    /** How many stored byte objects there are: files in the folder, or chunk rows. */
    const storedObjects = async (): Promise<number> => {
      if (store === 'database') return Number((await db.selectFrom('attachment_chunks').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
      const dir = join(database.dataDir, 'files')
      let n = 0
      try {
        for (const shard of readdirSync(dir)) n += readdirSync(join(dir, shard)).length
      } catch { return 0 }
      return n
    }
    const rows = async (): Promise<number> => Number((await db.selectFrom('attachments').select(eb => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
    const alice = await register(app, 'alice')
    const bob = await register(app, 'bob')
    const carol = await register(app, 'carol')
    await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
    await as(app, bob, 'POST', '/api/rooms/general/join')
    const image = png(7, 5)

    t.test('a multipart upload is a message event with its attachment, through the event stream', async t => {
      const cursor = (await as(app, bob, 'GET', '/api/poll')).json().cursor
      const res = await upload(app, alice, 'general', [{ field: 'clientId', value: 'up-1' }, { name: 'red dot.png', type: 'image/png', data: image }, { field: 'text', value: 'look 👀' }])
      t.equal(res.statusCode, 201, res.body)
      const event = res.json().event
      t.match(event, { type: 'message', text: 'look 👀', clientId: 'up-1', user: { username: 'alice' } })
      t.equal(event.attachments.length, 1)
      const file = event.attachments[0]
      t.match(file, { name: 'red dot.png', size: image.length, contentType: 'image/png', width: 7, height: 5 })
      t.equal(file.url, `api/files/${file.id as string}/red%20dot.png`)
      const polled = (await as(app, bob, 'GET', `/api/poll?cursor=${cursor as string}&timeout=5`)).json().events
      t.same(polled.find((e: { id: string }) => e.id === event.id), event, 'the poll delivers the same event')
      const history = (await as(app, bob, 'GET', '/api/rooms/general/messages')).json().events
      t.same(history.find((e: { id: string }) => e.id === event.id).attachments, event.attachments, 'history shows the attachments')

      const got = await download(app, bob, file.url)
      t.equal(got.statusCode, 200)
      t.same(got.rawPayload, image, 'the same bytes')
      t.equal(got.headers['content-type'], 'image/png')
      t.equal(got.headers['x-content-type-options'], 'nosniff')
      t.equal(got.headers['content-security-policy'], 'sandbox')
      t.equal(got.headers['cache-control'], 'private')
      t.match(got.headers['content-disposition'], /^inline; filename="red dot.png"/)
      t.equal(got.headers['content-length'], String(image.length))
    })

    t.test('the same clientId again: the first event, nothing stored twice', async t => {
      const before = [await rows(), await storedObjects()]
      const again = await upload(app, alice, 'general', [{ field: 'clientId', value: 'up-1' }, { name: 'red dot.png', type: 'image/png', data: image }])
      t.equal(again.statusCode, 200)
      const late = await upload(app, alice, 'general', [{ name: 'red dot.png', type: 'image/png', data: image }, { field: 'clientId', value: 'up-1' }])
      t.equal(late.statusCode, 200, 'also when clientId comes after the file')
      t.same(late.json().event, again.json().event)
      t.same([await rows(), await storedObjects()], before)
      const racing = await Promise.all([1, 2, 3].map(async () => await upload(app, bob, 'general', [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('race') }, { field: 'clientId', value: 'race-1' }])))
      t.same(racing.map(r => r.statusCode).sort(), [200, 200, 201])
      t.equal(new Set(racing.map(r => r.json().event.id)).size, 1)
      t.equal(await rows(), before[0] as number + 1, 'one file kept of three uploads')
    })

    t.test('raw bytes with ?filename=, several files in one message, a file across chunks', async t => {
      const big = randomBytes(chunkBytes + 1000)
      const raw = await app.inject({ method: 'POST', url: '/api/rooms/general/attachments?filename=data.bin&text=raw%20upload', headers: { cookie: alice.cookie, 'content-type': 'application/octet-stream' }, payload: big })
      t.equal(raw.statusCode, 201, raw.body)
      const file = raw.json().event.attachments[0]
      t.match(file, { name: 'data.bin', size: big.length, contentType: 'application/octet-stream' })
      t.equal(raw.json().event.text, 'raw upload')
      t.notOk('width' in file)
      const whole = await download(app, bob, file.url)
      t.same(whole.rawPayload, big)
      t.equal(whole.headers['content-type'], 'application/octet-stream')
      t.match(whole.headers['content-disposition'], /^attachment; filename="data.bin"/)

      const span = await download(app, bob, file.url, { range: `bytes=${chunkBytes - 10}-${chunkBytes + 9}` })
      t.equal(span.statusCode, 206)
      t.equal(span.headers['content-range'], `bytes ${chunkBytes - 10}-${chunkBytes + 9}/${big.length}`)
      t.same(span.rawPayload, big.subarray(chunkBytes - 10, chunkBytes + 10), 'a range across a chunk boundary')
      t.same((await download(app, bob, file.url, { range: 'bytes=-5' })).rawPayload, big.subarray(big.length - 5))
      t.same((await download(app, bob, file.url, { range: 'bytes=5-' })).rawPayload, big.subarray(5))
      const beyond = await download(app, bob, file.url, { range: `bytes=${big.length}-` })
      t.equal(beyond.statusCode, 416)
      t.equal(beyond.headers['content-range'], `bytes */${big.length}`)
      t.equal((await download(app, bob, file.url, { range: 'bytes=0-1,4-5' })).statusCode, 200, 'several ranges: the whole file')

      const several = await upload(app, alice, 'general', [
        { name: 'one.txt', type: 'text/plain', data: Buffer.from('one') },
        { name: '../../etc/two.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.4 two') }
      ])
      t.equal(several.statusCode, 201)
      t.same(several.json().event.attachments.map((a: { name: string, contentType: string }) => [a.name, a.contentType]), [['one.txt', 'text/plain'], ['two.pdf', 'application/pdf']])
      t.equal(several.json().event.text, '', 'text is optional')
    })

    t.test('the bytes decide the type: HTML named cat.png is a download', async t => {
      const html = Buffer.from('<html><script>alert(document.cookie)</script></html>')
      const res = await upload(app, alice, 'general', [{ name: 'cat.png', type: 'image/png', data: html }])
      const file = res.json().event.attachments[0]
      t.equal(file.contentType, 'application/octet-stream')
      const got = await download(app, bob, file.url)
      t.equal(got.headers['content-type'], 'application/octet-stream')
      t.match(got.headers['content-disposition'], /^attachment;/)
      t.equal(got.headers['content-security-policy'], 'sandbox')
      const declared = await upload(app, alice, 'general', [{ name: 'page.html', type: 'text/html', data: html }])
      t.equal((await download(app, bob, declared.json().event.attachments[0].url)).headers['content-type'], 'application/octet-stream')
      const real = await upload(app, alice, 'general', [{ name: 'photo.txt', type: 'text/plain', data: image }])
      t.equal(real.json().event.attachments[0].contentType, 'image/png', 'a PNG is a PNG whatever its name')
    })

    t.test('current members only; others get 404', async t => {
      await as(app, alice, 'POST', '/api/rooms', { name: 'club' })
      await as(app, bob, 'POST', '/api/rooms/club/join')
      const file = (await upload(app, alice, 'club', [{ name: 'secret.png', type: 'image/png', data: image }])).json().event.attachments[0]
      t.equal((await download(app, bob, file.url)).statusCode, 200)
      t.equal((await download(app, carol, file.url)).statusCode, 404, 'never a member')
      t.equal((await download(app, null, file.url)).statusCode, 401)
      await as(app, bob, 'POST', '/api/rooms/club/leave')
      t.equal((await download(app, bob, file.url)).statusCode, 404, 'after leaving')
      t.equal((await download(app, alice, `api/files/${file.id as string}999/x.png`)).statusCode, 404)
      t.equal((await upload(app, carol, 'club', [{ name: 'x.txt', type: 'text/plain', data: Buffer.from('x') }])).statusCode, 403, 'upload to a room one is not in')
    })

    t.test('deleting the message deletes its files', async t => {
      const res = await upload(app, alice, 'general', [{ name: 'gone.png', type: 'image/png', data: image }, { name: 'gone.txt', type: 'text/plain', data: Buffer.from('bye') }])
      const files = res.json().event.attachments
      const before = await storedObjects()
      t.equal((await as(app, alice, 'DELETE', `/api/rooms/general/messages/${res.json().event.id as string}`)).statusCode, 204)
      for (const f of files) t.equal((await download(app, alice, f.url)).statusCode, 404)
      t.equal(await storedObjects(), before - 2, 'the bytes are gone')
    })

    t.test('housekeeping repairs what a crash left', async t => {
      // A deletion whose request died before removing the bytes, and an upload that never became a message.
      const res = await upload(app, alice, 'general', [{ name: 'crash.txt', type: 'text/plain', data: Buffer.from('crash') }])
      const id = Number(res.json().event.id)
      await db.updateTable('messages').set({ deleted_at: Date.now() }).where('id', '=', id).execute()
      const orphan = await upload(app, alice, 'general', [{ name: 'orphan.txt', type: 'text/plain', data: Buffer.from('orphan') }])
      await db.updateTable('attachments').set({ message_id: null, created_at: Date.now() - 2 * 3600 * 1000 }).where('id', '=', Number(orphan.json().event.attachments[0].id)).execute()
      const [rowsBefore, bytesBefore] = [await rows(), await storedObjects()]
      t.equal((await download(app, alice, res.json().event.attachments[0].url)).statusCode, 404, 'not served once its message is deleted')
      await app.attachments.housekeeping()
      t.same([await rows(), await storedObjects()], [rowsBefore - 2, bytesBefore - 2])
    })

    t.test('limits: largest file and quota refused while streaming, nothing stored', async t => {
      const [rowsBefore, bytesBefore] = [await rows(), await storedObjects()]
      const tooBig = await upload(app, bob, 'general', [{ name: 'big.bin', type: 'application/octet-stream', data: Buffer.alloc(maxBytes + 1) }])
      t.equal(tooBig.statusCode, 413)
      t.equal(tooBig.json().error.code, 'too_large')
      const rawTooBig = await app.inject({ method: 'POST', url: '/api/rooms/general/attachments?filename=big.bin', headers: { cookie: bob.cookie, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(maxBytes + 1) })
      t.equal(rawTooBig.statusCode, 413)
      const second = await upload(app, bob, 'general', [{ name: 'ok.txt', type: 'text/plain', data: Buffer.from('fine') }, { name: 'big.bin', type: 'application/octet-stream', data: Buffer.alloc(maxBytes + 1) }])
      t.equal(second.statusCode, 413, 'the second file too large: the first is not kept either')
      t.same([await rows(), await storedObjects()], [rowsBefore, bytesBefore])
      t.equal((await upload(app, bob, 'general', [{ name: 'max.bin', type: 'application/octet-stream', data: Buffer.alloc(maxBytes) }])).statusCode, 201, 'exactly the largest size is fine')

      // Carol's quota is 4 × maxBytes: three full files fit, the fourth goes over with what is already there.
      await as(app, carol, 'POST', '/api/rooms/general/join')
      for (let i = 0; i < 3; i++) t.equal((await upload(app, carol, 'general', [{ name: `q${i}.bin`, type: 'application/octet-stream', data: Buffer.alloc(maxBytes) }])).statusCode, 201)
      t.equal((await upload(app, carol, 'general', [{ name: 'small.txt', type: 'text/plain', data: Buffer.from('x') }])).statusCode, 201)
      const over = await upload(app, carol, 'general', [{ name: 'q4.bin', type: 'application/octet-stream', data: Buffer.alloc(maxBytes) }])
      t.equal(over.statusCode, 413)
      t.match(over.json().error.message, /quota/)
    })

    t.test('bad uploads are 400 naming the field', async t => {
      const cases: Array<[string, LightMyRequestResponse, string]> = [
        ['no file', await upload(app, alice, 'general', [{ field: 'text', value: 'just text' }]), 'file'],
        ['unknown field', await upload(app, alice, 'general', [{ field: 'colour', value: 'red' }, { name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }]), 'colour'],
        ['file under another name', await upload(app, alice, 'general', [{ field: 'upload', name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }]), 'upload'],
        ['blank text', await upload(app, alice, 'general', [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }, { field: 'text', value: '   ' }]), 'text'],
        ['control character', await upload(app, alice, 'general', [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }, { field: 'text', value: 'bell\u0007' }]), 'text'],
        ['raw without filename', await app.inject({ method: 'POST', url: '/api/rooms/general/attachments', headers: { cookie: alice.cookie, 'content-type': 'application/pdf' }, payload: Buffer.from('%PDF') }), 'filename'],
        ['too many files', await upload(app, alice, 'general', Array.from({ length: 11 }, (_, i) => ({ name: `${i}.txt`, type: 'text/plain', data: Buffer.from('x') }))), 'file']
      ]
      for (const [what, res, field] of cases) {
        t.equal(res.statusCode, 400, what)
        t.ok(res.json().error.fields?.[field], `${what}: ${res.body}`)
      }
      t.equal((await app.inject({ method: 'POST', url: '/api/rooms/general/attachments?filename=a.txt', headers: { 'content-type': 'text/plain' }, payload: 'x' })).statusCode, 401)
    })
  })
}

t.test('uploads share the send rate limit', async t => {
  const app = await buildTestApp(t, { RATE_LIMIT_DISABLED: 'false', RATE_SEND_MAX: '2', RATE_SEND_WINDOW: '60' })
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'one' })).statusCode, 201)
  t.equal((await upload(app, alice, 'general', [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }])).statusCode, 201)
  const limited = await upload(app, alice, 'general', [{ name: 'b.txt', type: 'text/plain', data: Buffer.from('b') }])
  t.equal(limited.statusCode, 429)
  t.ok(limited.headers['retry-after'])
  t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'three' })).statusCode, 429, 'and the other way round')
})
