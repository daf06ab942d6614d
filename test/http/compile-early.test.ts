import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'

// Validators compile on a route's first request (src/http/validation.ts), but
// the routes marked compileEarly (sending, polling) compile theirs once the
// server listens, so the first send after a restart does not pay for it.

t.test('the send and poll validators are compiled once the server listens, and still validate', async t => {
  const app = await buildTestApp(t)
  // The send's params and body, the poll's query string, at least.
  t.ok(app.earlyValidatorsPending() >= 3, `validators wait for the server to listen (${app.earlyValidatorsPending()})`)
  await listenOn(app)
  const deadline = Date.now() + 5000
  while (app.earlyValidatorsPending() > 0 && Date.now() < deadline) await new Promise(resolve => setImmediate(resolve))
  t.equal(app.earlyValidatorsPending(), 0, 'all compiled in the idle time after listening')

  const alice = await register(app, 'alice')
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'general' })).statusCode, 201)
  const refused = await as(app, alice, 'POST', '/api/rooms/general/messages', { text: ['not', 'a', 'string'] })
  t.equal(refused.statusCode, 400, 'a body of the wrong type is still refused')
  t.equal(refused.json().error.code, 'invalid')
  t.equal((await as(app, alice, 'POST', '/api/rooms/general/messages', { text: 'hello' })).statusCode, 201, 'a good one is stored')
  const poll = await as(app, alice, 'GET', '/api/poll?cursor=abc')
  t.equal(poll.statusCode, 400, 'a cursor that is not one is refused')
})

t.test('without listening (inject only) nothing is compiled ahead', async t => {
  const app = await buildTestApp(t)
  const before = app.earlyValidatorsPending()
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(app.earlyValidatorsPending(), before, 'the queue waits for listen')
})
