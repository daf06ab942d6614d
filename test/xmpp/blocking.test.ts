import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const password = 'correct horse battery'
const BLOCKING = 'urn:xmpp:blocking'

const blockedJids = (iq: Element | undefined): string[] =>
  iq?.getChild('blocklist', BLOCKING)?.getChildren('item').map(i => i.attrs.jid ?? '') ?? []

/** XEP-0191 blocking as our blocks, and roster pushes for new direct rooms, each against what the web API sees. */
t.test('XMPP blocking and roster pushes', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const url = `${await listenOn(app)}/http-bind`
  const xmppUser = await register(app, 'xavier')
  const web = await register(app, 'webby')
  const mallory = await register(app, 'mallory')
  await register(app, 'carol')

  const x = new BoshClient(url, domain)
  await x.create(3)
  await x.signIn('xavier', password)
  // Initial presence: roster contacts' presence is sent from here on.
  await x.post('<presence/>')

  t.test('the server offers urn:xmpp:blocking', async t => {
    const body = await x.post(`<iq type='get' id='di' to='${domain}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
    const vars = body.getChild('iq')?.getChild('query')?.getChildren('feature').map(f => f.attrs.var)
    t.ok(vars?.includes(BLOCKING))
  })

  t.test('the blocklist is our blocks; a block from the web shows in it', async t => {
    const empty = await x.post(`<iq type='get' id='bl1'><blocklist xmlns='${BLOCKING}'/></iq>`)
    t.equal(empty.getChild('iq')?.attrs.type, 'result')
    t.same(blockedJids(empty.getChild('iq')), [])
    t.equal((await as(app, xmppUser, 'POST', '/api/blocks', { username: 'carol' })).statusCode, 204)
    const one = await x.post(`<iq type='get' id='bl2'><blocklist xmlns='${BLOCKING}'/></iq>`)
    t.same(blockedJids(one.getChild('iq')), [`carol@${domain}`])
    t.equal((await as(app, xmppUser, 'DELETE', '/api/blocks/carol')).statusCode, 204)
    const again = await x.post(`<iq type='get' id='bl3'><blocklist xmlns='${BLOCKING}'/></iq>`)
    t.same(blockedJids(again.getChild('iq')), [])
  })

  t.test('a block from XMPP is our block, answered and pushed; an unblock likewise', async t => {
    const body = await x.post(`<iq type='set' id='b1'><block xmlns='${BLOCKING}'><item jid='mallory@${domain}'/></block></iq>`)
    const [result, push] = body.getChildren('iq')
    t.match(result?.attrs, { type: 'result', id: 'b1' })
    t.match(push?.attrs, { type: 'set' })
    t.same(push?.getChild('block', BLOCKING)?.getChildren('item').map(i => i.attrs.jid), [`mallory@${domain}`])
    const blocks = (await as(app, xmppUser, 'GET', '/api/blocks')).json().blocks as Array<{ user: { username: string } }>
    t.same(blocks.map(b => b.user.username), ['mallory'], 'the web API sees the block')

    t.equal((await as(app, mallory, 'POST', '/api/direct', { username: 'xavier' })).statusCode, 403, 'the blocked user cannot open a direct conversation')

    const un = await x.post(`<iq type='set' id='u1'><unblock xmlns='${BLOCKING}'><item jid='mallory@${domain}'/></unblock></iq>`)
    const [unResult, unPush] = un.getChildren('iq')
    t.match(unResult?.attrs, { type: 'result', id: 'u1' })
    t.ok(unPush?.getChild('unblock', BLOCKING))
    t.same((await as(app, xmppUser, 'GET', '/api/blocks')).json().blocks, [], 'the web API sees the unblock')
  })

  t.test('an unblock without items unblocks everyone', async t => {
    for (const name of ['mallory', 'carol']) t.equal((await as(app, xmppUser, 'POST', '/api/blocks', { username: name })).statusCode, 204)
    const body = await x.post(`<iq type='set' id='u2'><unblock xmlns='${BLOCKING}'/></iq>`)
    t.equal(body.getChild('iq')?.attrs.type, 'result')
    t.same((await as(app, xmppUser, 'GET', '/api/blocks')).json().blocks, [])
  })

  t.test('our rules as stanza errors', async t => {
    const self = await x.post(`<iq type='set' id='e1'><block xmlns='${BLOCKING}'><item jid='xavier@${domain}'/></block></iq>`)
    t.equal(self.getChild('iq')?.attrs.type, 'error')
    t.ok(self.getChild('iq')?.getChild('error')?.getChild('bad-request'), 'blocking oneself')
    const unknown = await x.post(`<iq type='set' id='e2'><block xmlns='${BLOCKING}'><item jid='nobody@${domain}'/></block></iq>`)
    t.ok(unknown.getChild('iq')?.getChild('error')?.getChild('item-not-found'), 'an unknown user')
    const foreign = await x.post(`<iq type='set' id='e3'><block xmlns='${BLOCKING}'><item jid='someone@elsewhere.test'/></block></iq>`)
    t.ok(foreign.getChild('iq')?.getChild('error')?.getChild('jid-malformed'), 'a JID of another domain')
    const none = await x.post(`<iq type='set' id='e4'><block xmlns='${BLOCKING}'/></iq>`)
    t.ok(none.getChild('iq')?.getChild('error')?.getChild('bad-request'), 'a block without items')
  })

  t.test('a direct room someone opens from the web is a roster push, then their message arrives', async t => {
    t.equal((await as(app, web, 'POST', '/api/direct', { username: 'xavier' })).statusCode, 201)
    const stanzas = await x.next()
    const push = stanzas.find(s => s.name === 'iq')
    t.match(push?.attrs, { type: 'set' })
    t.match(push?.getChild('query', 'jabber:iq:roster')?.getChild('item')?.attrs, { jid: `webby@${domain}`, subscription: 'both' })
    // The client acknowledges the push (RFC 6121 §2.1.6): nothing comes back.
    const ack = await x.post(`<iq type='result' id='${push?.attrs.id ?? ''}'/>`)
    t.same(ack.getChildElements().filter(s => s.name === 'iq'), [])
    const rooms = (await as(app, web, 'GET', '/api/rooms')).json().rooms as Array<{ id: string, kind: string }>
    const direct = rooms.find(r => r.kind === 'direct')
    t.equal((await as(app, web, 'POST', `/api/rooms/${direct?.id ?? ''}/messages`, { text: 'hi there' })).statusCode, 201)
    const got = await x.next()
    const message = got.find(s => s.name === 'message' && s.getChildText('body') !== null)
    t.match(message?.attrs, { type: 'chat', from: `webby@${domain}` })
    t.equal(message?.getChildText('body'), 'hi there')
    t.notOk(got.some(s => s.name === 'iq'), 'no second push for a known contact')
    const roster = await x.post("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    t.same(roster.getChild('iq')?.getChild('query')?.getChildren('item').map(i => i.attrs.jid), [`webby@${domain}`], 'the roster has them too')
  })

  t.test('a blocked user\'s message is refused; the blocker\'s still goes', async t => {
    const body = await x.post(`<iq type='set' id='b2'><block xmlns='${BLOCKING}'><item jid='webby@${domain}'/></block></iq>`)
    t.equal(body.getChild('iq')?.attrs.type, 'result')
    const rooms = (await as(app, web, 'GET', '/api/rooms')).json().rooms as Array<{ id: string, kind: string }>
    const direct = rooms.find(r => r.kind === 'direct')
    t.equal((await as(app, web, 'POST', `/api/rooms/${direct?.id ?? ''}/messages`, { text: 'let me in' })).statusCode, 403, 'the web user is refused')

    const w = new BoshClient(url, domain)
    await w.create(3)
    await w.signIn('webby', password)
    const refused = await w.post(`<message type='chat' to='xavier@${domain}' id='m1'><body>over XMPP then</body></message>`)
    const error = refused.getChild('message')?.getChild('error')
    t.equal(error?.attrs.type, 'auth')
    t.ok(error?.getChild('forbidden'), 'over XMPP too')
    const history = (await as(app, xmppUser, 'GET', `/api/rooms/${direct?.id ?? ''}/messages`)).json().events as Array<{ text: string }>
    t.notOk(history.some(e => e.text === 'over XMPP then' || e.text === 'let me in'), 'nothing stored')
    const mine = await x.post(`<message type='chat' to='webby@${domain}' id='m2'><body>still me</body></message>`)
    t.notOk(mine.getChild('message')?.getChild('error'), 'the blocker can still write')
    await w.post('', "type='terminate'")
  })
})
