import t from 'tap'
import { buildApp } from '../../src/app.js'
import { as, listenOn, register, testConfig } from '../helper.js'
import { createTestDatabase } from '../helpers/database.js'
import { twoApps } from '../helpers/two-nodes.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`
const password = 'correct horse battery'
const env = { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' }

const bodies = (stanzas: Element[]): string[] => stanzas.filter(s => s.name === 'message').map(s => s.getChildText('body') ?? '').filter(b => b !== '')
const errors = (stanzas: Element[]): Element[] => stanzas.filter(s => s.attrs.type === 'error')

/** The same session (sid, next rid) sent to another node. */
function on (client: BoshClient, base: string): BoshClient {
  return Object.assign(client, { url: `${base}/http-bind` })
}

/** Requests (each held up to `wait`) until `text` came, every body seen on the way collected. */
async function until (client: BoshClient, text: string, seen: string[]): Promise<void> {
  for (let i = 0; i < 5 && !seen.includes(text); i++) seen.push(...bodies((await client.post('')).getChildElements()))
}

t.test('a BOSH session goes on at any node on the same database', async t => {
  const database = await createTestDatabase(t)
  const { apps, urls } = await twoApps(t, database, env)
  const [one, two] = apps as [typeof apps[0], typeof apps[0]]
  const [urlOne, urlTwo] = urls as [string, string]
  const web = await register(one, 'webby')
  await register(one, 'xavier')
  t.equal((await as(one, web, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)

  const x = new BoshClient(`${urlOne}/http-bind`, domain)
  await x.create(3)
  t.match(await x.signIn('xavier', password), `xavier@${domain}/test`)
  const joined = await x.post(`<presence to='lobby@${muc}/xavier'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
  t.ok(joined.getChildElements().some(s => s.getChild('subject') !== undefined), 'joined on node one')
  const seen: string[] = []

  t.test('the stored session names neither the sid nor the cookie', async t => {
    const rows = await one.database.db.selectFrom('bosh_sessions').selectAll().execute()
    t.equal(rows.length, 1)
    t.not(rows[0]?.id, x.sid)
    t.notOk(rows[0]?.state.includes('Fe26'), 'the cookie is sealed')
    t.notOk(JSON.stringify(rows).includes(x.sid))
  })

  t.test('a held request on node two delivers a message sent on node one', async t => {
    const held = on(x, urlTwo).post('')
    t.equal((await as(one, web, 'POST', '/api/rooms/lobby/messages', { text: 'one' })).statusCode, 201)
    const body = await held
    t.not(body.attrs.type, 'terminate')
    seen.push(...bodies(body.getChildElements()))
    await until(x, 'one', seen)
    t.ok(seen.includes('one'))
  })

  t.test('room occupancy goes on: a groupchat sent back on node one', async t => {
    const sent = await on(x, urlOne).post(`<message type='groupchat' to='lobby@${muc}' id='g2'><body>two</body></message>`)
    t.same(errors(sent.getChildElements()), [], 'no "join the room first"')
    seen.push(...bodies(sent.getChildElements()))
    await until(on(x, urlTwo), 'two', seen)
    t.ok(seen.includes('two'))
    const history = (await as(two, web, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ text: string }>
    t.ok(history.some(e => e.text === 'two'), 'stored once, seen by the web')
  })

  t.test('requests out on both nodes at once: the event goes out once', async t => {
    const first = on(x, urlOne).post('')
    // The next rid at node two: an earlier one is still out elsewhere, so it answers at once.
    const second = await on(x, urlTwo).post('')
    seen.push(...bodies(second.getChildElements()))
    t.equal((await as(two, web, 'POST', '/api/rooms/lobby/messages', { text: 'three' })).statusCode, 201)
    seen.push(...bodies((await first).getChildElements()))
    await until(on(x, urlTwo), 'three', seen)
    t.ok(seen.includes('three'))
  })

  t.test('nothing twice, nothing lost', async t => {
    seen.push(...bodies((await on(x, urlOne).post('')).getChildElements()))
    t.same(seen, ['one', 'two', 'three'])
  })

  t.test('an answer lost on the way is answered again at another node, from the cursor before it', async t => {
    t.equal((await as(one, web, 'POST', '/api/rooms/lobby/messages', { text: 'five' })).statusCode, 201)
    const got: string[] = []
    await until(on(x, urlOne), 'five', got)
    t.same(got, ['five'])
    // The client never read that answer: it sends the same rid again, now to node two.
    const again = await on(x, urlTwo).post('', '', x.rid)
    t.same(bodies(again.getChildElements()), ['five'], 'the same events again')
    t.same(bodies((await x.post('')).getChildElements()), [], 'and then not a third time')
  })

  t.test('a node closed and built again on the same database goes on with the session', async t => {
    await register(one, 'yolanda')
    const three = await buildApp(testConfig(database, env))
    const y = new BoshClient(`${await listenOn(three)}/http-bind`, domain)
    await y.create(3)
    await y.signIn('yolanda', password)
    await y.post(`<presence to='lobby@${muc}/yolanda'/>`)
    const held = y.post('')
    // Give the request time to reach the node and be held (a request still on its way when the node closes is cut, and a client sends it again).
    await new Promise(resolve => setTimeout(resolve, 500))
    await three.close()
    t.not((await held).attrs.type, 'terminate', 'a held request answers as usual at shutdown')
    t.equal((await as(one, web, 'POST', '/api/rooms/lobby/messages', { text: 'four' })).statusCode, 201)
    const four = await buildApp(testConfig(database, env))
    t.teardown(async () => { await four.close() })
    on(y, await listenOn(four))
    const got: string[] = []
    await until(y, 'four', got)
    t.same(got, ['four'], 'the message sent while no node had the session')
    const sent = await y.post(`<message type='groupchat' to='lobby@${muc}' id='y1'><body>back</body></message>`)
    t.same(errors(sent.getChildElements()), [], 'still in the room')
  })

  t.test('a session made on one node signs in, restarts and binds on the other', async t => {
    await register(one, 'sasha')
    const s = new BoshClient(`${urlOne}/http-bind`, domain)
    await s.create(3)
    const rows = await one.database.db.selectFrom('bosh_sessions').select(['user_id', 'version']).execute()
    t.ok(rows.some(r => Number(r.user_id) === 0), 'stored before sign-in, with no user yet')
    // Every step after the creation at node two, as a second Passenger process would get them.
    t.match(await on(s, urlTwo).signIn('sasha', password), `sasha@${domain}/test`)
    const joined = await on(s, urlOne).post(`<presence to='lobby@${muc}/sasha'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
    t.ok(joined.getChildElements().some(e => e.getChild('subject') !== undefined), 'and goes on at node one, signed in')
    t.equal((await s.post('', "type='terminate'")).attrs.type, 'terminate')
  })

  t.test('a failed sign-in at the other node leaves the session signed out on both', async t => {
    const n = new BoshClient(`${urlOne}/http-bind`, domain)
    await n.create(3)
    const wrong = Buffer.from('\u0000nobody\u0000wrong password').toString('base64')
    const refused = await on(n, urlTwo).post(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${wrong}</auth>`)
    t.ok(refused.getChild('failure') !== undefined, 'a wrong password fails at node two')
    const bound = await on(n, urlOne).post("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>")
    t.notOk(JSON.stringify(bound.toString()).includes('@'), 'and node one did not sign it in either')
  })

  t.test('a terminated session cannot be taken up at another node', async t => {
    await register(one, 'zed')
    const z = new BoshClient(`${urlOne}/http-bind`, domain)
    await z.create(3)
    await z.signIn('zed', password)
    t.equal((await z.post('', "type='terminate'")).attrs.type, 'terminate')
    const after = await on(z, urlTwo).post('')
    t.equal(after.attrs.type, 'terminate')
    t.equal(after.attrs.condition, 'item-not-found')
  })

  t.test('a revoked sign-in ends the session at the other node', async t => {
    const wendy = await register(one, 'wendy')
    const w = new BoshClient(`${urlOne}/http-bind`, domain)
    await w.create(3)
    await w.signIn('wendy', password)
    t.equal((await as(two, wendy, 'POST', '/api/sessions/revoke')).statusCode, 204)
    const after = await on(w, urlTwo).post('')
    t.equal(after.attrs.type, 'terminate')
    t.equal(after.attrs.condition, 'policy-violation')
    const back = await on(w, urlOne).post('')
    t.equal(back.attrs.type, 'terminate', 'and at the node that made it')
  })
})
