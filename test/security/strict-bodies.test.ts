import t from 'tap'
import { as, buildTestApp, register } from '../helper.js'

/* Bodies are taken as typed, never coerced; a JSON body must be an object; every bad field is named. */

t.test('request bodies: no coercion, objects only, every bad field named', async t => {
  const app = await buildTestApp(t)
  const alice = await register(app, 'alice')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const stored = async (): Promise<string[]> => (await app.database.db.selectFrom('messages').select('text').execute()).map(r => r.text)
  const json = async (url: string, payload: string): Promise<any> =>
    await app.inject({ method: 'POST', url, headers: { cookie: alice.cookie, 'content-type': 'application/json' }, payload })

  t.test('a value of the wrong type is refused, not converted', async t => {
    for (const text of [['x'], 42, true, { a: 1 }, null]) {
      const res = await as(app, alice, 'POST', '/api/rooms/general/messages', { text })
      t.equal(res.statusCode, 400, JSON.stringify(text))
      t.equal(res.json().error.code, 'invalid')
      t.ok('text' in res.json().error.fields, `names text: ${res.body}`)
    }
    const name = await as(app, alice, 'POST', '/api/rooms', { name: 12345, visibility: 'public' })
    t.equal(name.statusCode, 400, 'a number as a room name')
    t.same(await stored(), [], 'nothing was stored')
  })

  t.test('a JSON body that is not an object is refused on every route', async t => {
    for (const body of ['"hello"', '[]', '["hello"]', '42', 'null', 'true']) {
      const sent = await json('/api/rooms/general/messages', body)
      t.equal(sent.statusCode, 400, `send ${body}`)
      t.equal(sent.json().error.code, 'invalid')
      t.ok('body' in sent.json().error.fields, `names the body: ${sent.body}`)
      t.equal((await json('/api/rooms', body)).statusCode, 400, `create room ${body}`)
      t.equal((await json('/api/rooms/general/typing', body)).statusCode, 400, `typing ${body}`)
    }
    t.same(await stored(), [], 'a bare JSON string was not sent as a message')
  })

  t.test('error.fields names every bad or missing field, not only the first', async t => {
    const empty = await app.inject({ method: 'POST', url: '/api/register', payload: {} })
    t.equal(empty.statusCode, 400)
    t.same(Object.keys(empty.json().error.fields).sort(), ['password', 'username'])
    const both = await app.inject({ method: 'POST', url: '/api/register', payload: { username: 5, password: true, displayName: ['x'] } })
    t.same(Object.keys(both.json().error.fields).sort(), ['displayName', 'password', 'username'])
    const pw = await as(app, alice, 'POST', '/api/password', { currentPassword: 1 })
    t.same(Object.keys(pw.json().error.fields).sort(), ['currentPassword', 'newPassword'])
  })

  t.test('what is right still works: plain text and forms send, query numbers are read as numbers', async t => {
    const plain = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'text/plain' }, payload: 'as plain text' })
    t.equal(plain.statusCode, 201)
    const form = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=as+a+form+%C3%A9&clientId=f1' })
    t.equal(form.statusCode, 201)
    t.equal(form.json().event.text, 'as a form é')
    const twice = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=a&text=b' })
    t.equal(twice.statusCode, 400, 'a repeated form field is a list, not a string')
    const badForm = await app.inject({ method: 'POST', url: '/api/rooms/general/messages', headers: { cookie: alice.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'text=%ff%fe' })
    t.equal(badForm.statusCode, 400, 'percent-encoded bytes that are not UTF-8')
    const history = await as(app, alice, 'GET', '/api/rooms/general/messages?limit=1')
    t.equal(history.statusCode, 200)
    t.equal(history.json().events.length, 1)
    t.same(await stored(), ['as plain text', 'as a form é'])
  })
})
