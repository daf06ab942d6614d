import t from 'tap'
import { Ajv } from 'ajv'
import type { LightMyRequestResponse } from 'fastify'
import { as, buildTestApp, register } from '../helper.js'

// Poll, send and edit answer with prebuilt JSON that Fastify does not run
// through their response schemas (src/http/prebuilt-json.ts): this checks real
// answers against the schemas the OpenAPI document publishes.
t.test('prebuilt answers match their documented response schemas', async t => {
  const app = await buildTestApp(t)
  const doc = (await app.inject({ url: '/api/openapi.json' })).json()
  const ajv = new Ajv({ strict: false, allErrors: true })
  const check = (method: string, path: string, res: LightMyRequestResponse): void => {
    const schema = doc.paths[path][method].responses[String(res.statusCode)]?.content?.['application/json']?.schema
    t.ok(schema, `${method} ${path} documents ${res.statusCode}`)
    t.match(res.headers['content-type'], /^application\/json/, `${method} ${path} says it is JSON`)
    const valid = ajv.validate(schema, res.json())
    t.ok(valid, `${method} ${path} ${res.statusCode}: ${ajv.errorsText()}`)
  }

  const alice = await register(app, 'alice')
  const bob = await register(app, 'bob')
  await as(app, alice, 'POST', '/api/rooms', { name: 'general' })
  const start = await as(app, bob, 'GET', '/api/poll')
  check('get', '/api/poll', start)
  const cursor = start.json().cursor as string
  await as(app, bob, 'POST', '/api/rooms/general/join')
  const sent = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'hello', clientId: 'c1' })
  t.equal(sent.statusCode, 201)
  check('post', '/api/rooms/{room}/messages', sent)
  const again = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'hello', clientId: 'c1' })
  t.equal(again.statusCode, 200)
  check('post', '/api/rooms/{room}/messages', again)
  const edited = await as(app, alice, 'PATCH', `/api/rooms/general/messages/${sent.json().event.id as string}`, { text: 'hello there' })
  check('patch', '/api/rooms/{room}/messages/{id}', edited)
  await as(app, alice, 'POST', '/api/rooms/general/typing')
  const events = await as(app, bob, 'GET', `/api/poll?cursor=${cursor}&timeout=0`)
  t.ok(events.json().events.length >= 3, 'the poll carries the join, the message and the edit')
  check('get', '/api/poll', events)
  check('get', '/api/rooms/{room}/messages', await as(app, bob, 'GET', '/api/rooms/general/messages'))

  const schema = doc.paths['/api/poll'].get.responses['200'].content['application/json'].schema
  const broken = { ...events.json(), events: [{ ...events.json().events[0], user: null }] }
  t.notOk(ajv.validate(schema, broken), 'an answer that breaks the schema is caught')
})
