import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

/* Edits cost what sends cost, and no stored text carries C0 control characters but tab and newline. */

t.test('edits share the send limit', async t => {
  const app = await buildTestApp(t, { RATE_LIMIT_DISABLED: 'false', RATE_SEND_MAX: '4', RATE_SEND_WINDOW: '60' })
  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  await as(app, bob, 'POST', '/api/rooms/general/join')
  const id = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'draft' })).json().event.id as string
  for (let i = 0; i < 3; i++) t.equal((await as(app, alice, 'PATCH', `/api/rooms/general/messages/${id}`, { text: `edit ${i}` })).statusCode, 200)
  const edit = await as(app, alice, 'PATCH', `/api/rooms/general/messages/${id}`, { text: 'one too many' })
  t.equal(edit.statusCode, 429, 'the fifth write, an edit, is over the limit')
  t.equal(edit.json().error.code, 'rate_limited')
  t.ok(Number(edit.headers['retry-after']) >= 1)
  t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'and a send' })).statusCode, 429, 'sends share the budget')
  t.equal((await as(app, bob, 'POST', '/api/rooms/general/messages', { text: 'bob is fine' })).statusCode, 201)
  const stored = await app.database.db.selectFrom('messages').select('text').where('id', '=', Number(id)).executeTakeFirst()
  t.equal(stored?.text, 'edit 2', 'the refused edit changed nothing')
})

t.test('C0 control characters other than tab and newline are refused in every stored text', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const id = (await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'original' })).json().event.id as string
  const controls = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u000c', '\u000d', '\u001b', '\u001f']
  for (const c of controls) {
    const text = `a${c}b`
    const label = `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    for (const res of [
      await as(app, alice, 'POST', '/api/rooms/general/messages', { text }),
      await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'text/plain' }, payload: text }),
      await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: `text=${encodeURIComponent(text)}` }),
      await as(app, alice, 'PATCH', `/api/rooms/general/messages/${id}`, { text })
    ]) {
      t.equal(res.statusCode, 400, label)
      t.ok('text' in (res.json().error.fields ?? {}), `${label} names text`)
    }
    t.equal((await as(app, alice, 'POST', '/api/tokens', { name: `t${c}`, password: 'correct horse battery' })).statusCode, 400, `${label} in a token name`)
    t.equal((await app.inject({ method: 'POST', url: '/api/register', payload: { username: 'carol', password: 'correct horse battery', displayName: `C${c}` } })).statusCode, 400, `${label} in a display name`)
  }
  const fine = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'tab\there\nand a new line \u007f é 😀' })
  t.equal(fine.statusCode, 201, 'tab, newline and other characters are text')
  t.equal((await as(app, alice, 'PATCH', `/api/rooms/general/messages/${id}`, { text: 'line one\nline two' })).statusCode, 200)
  const texts = (await app.database.db.selectFrom('messages').select('text').orderBy('id').execute()).map(r => r.text)
  t.same(texts, ['line one\nline two', 'tab\there\nand a new line \u007f é 😀'])
})
