import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const ping = (id: string): string => `<iq type='get' id='${id}'><ping xmlns='urn:xmpp:ping'/></iq>`
const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** XEP-0124's transport rules beyond holding: acknowledgements (§9), pauses (§10) and polling sessions (§12). */
t.test('BOSH transport', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const url = `${await listenOn(app)}/http-bind`
  const alice = await register(app, 'alice')
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)

  t.test('acknowledgements: the creation echoes the rid, a released hold acks the newer request, a missing answer is reported and resent', async t => {
    const c = new BoshClient(url, domain)
    const created = await c.create(3, "hold='1' ack='1'")
    t.equal(created.attrs.ack, String(c.rid), 'ack at creation is its rid')
    await c.signIn('alice', 'correct horse battery')

    const heldRid = ++c.rid
    const held = c.post('', '', heldRid)
    await pause(100)
    const pinged = await c.post(ping('a1'))
    const released = await held
    t.equal(released.attrs.ack, String(heldRid + 1), 'the held answer acknowledges the request that released it')
    t.notOk(pinged.attrs.ack, 'no ack equal to the answered rid')

    const lostRid = ++c.rid
    const lost = await c.post(ping('a2'), '', lostRid)
    const reported = await c.post('', `ack='${lostRid - 1}'`)
    t.equal(reported.attrs.report, String(lostRid), 'reports the first answer the client lacks')
    t.match(reported.attrs.time, /^[0-9]+$/)
    const resent = await c.post(ping('a2'), '', lostRid)
    t.equal(resent.toString(), lost.toString(), 'the reported answer is sent again')
  })

  t.test('a session without acks gets none', async t => {
    const c = new BoshClient(url, domain)
    const created = await c.create(3)
    t.notOk(created.attrs.ack)
    await c.signIn('alice', 'correct horse battery')
    const held = c.post('')
    await pause(100)
    await c.post(ping('n1'))
    t.notOk((await held).attrs.ack)
  })

  t.test('pause: maxpause is advertised, a pause answers the held request and itself at once without payloads', async t => {
    const c = new BoshClient(url, domain)
    const created = await c.create(3)
    t.equal(created.attrs.maxpause, '120')
    await c.signIn('alice', 'correct horse battery')
    const held = c.post('')
    await pause(100)
    const paused = await c.post(ping('p1'), "pause='60'")
    t.same(paused.getChildElements(), [], 'no payloads in the pause answer')
    t.notOk(paused.attrs.type)
    t.same((await held).getChildElements(), [])
    const after = await c.post('')
    t.equal(after.getChild('iq')?.attrs.id, 'p1', 'the stanza answered during the pause comes with the next request')
  })

  t.test('a pause longer than maxpause ends the session with policy-violation; a malformed one with bad-request', async t => {
    const c = new BoshClient(url, domain)
    await c.create(3)
    await c.signIn('alice', 'correct horse battery')
    t.match((await c.post('', "pause='121'")).attrs, { type: 'terminate', condition: 'policy-violation' })
    t.match((await c.post('')).attrs, { type: 'terminate', condition: 'item-not-found' }, 'the session is gone')
    const d = new BoshClient(url, domain)
    await d.create(3)
    t.match((await d.post('', "pause='soon'")).attrs, { type: 'terminate', condition: 'bad-request' })
    const e = new BoshClient(url, domain)
    await e.create(3)
    t.match((await e.post('', "ack='-1'")).attrs, { type: 'terminate', condition: 'bad-request' })
  })

  t.test('a polling session: terms, answers at once, and empty polls too often are a policy-violation', async t => {
    const c = new BoshClient(url, domain)
    const created = await c.create(0, "hold='0'")
    t.match(created.attrs, { hold: '0', requests: '1', wait: '0', polling: '2' })
    await c.signIn('alice', 'correct horse battery')
    const first: Element = await c.post('')
    t.same(first.getChildElements(), [], 'an empty poll is answered at once, empty')
    const withPayload = await c.post(ping('q1'))
    t.equal(withPayload.getChild('iq')?.attrs.type, 'result', 'a request with payloads is not a poll')
    await c.post('')
    const tooSoon = await c.post('')
    t.match(tooSoon.attrs, { type: 'terminate', condition: 'policy-violation' })
  })

  t.test('a polling session gets the events the feed has for it', async t => {
    const c = new BoshClient(url, domain)
    await c.create(3, "hold='0'")
    await c.signIn('alice', 'correct horse battery')
    await c.post("<presence to='lobby@conference.chat.test/alice'/>")
    const sent = await c.post("<message type='groupchat' to='lobby@conference.chat.test' id='g1'><body>polled</body></message>")
    t.equal(sent.getChild('message')?.getChildText('body'), 'polled', 'the reflection comes on a poll')
  })
})
