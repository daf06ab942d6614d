import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, HTTPBIND, parse, type Element } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`
const password = 'correct horse battery'

const child = (body: Element, name: string): Element[] => body.getChildElements().filter(e => e.name === name)

t.test('XMPP over BOSH', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const base = await listenOn(app)
  const url = `${base}/http-bind`
  const alice = await register(app, 'alice')
  await register(app, 'bob')
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  t.equal((await as(app, alice, 'POST', '/api/rooms', { name: 'secret', visibility: 'private' })).statusCode, 201)
  t.equal((await as(app, alice, 'POST', '/api/rooms/lobby/messages', { text: 'before you came' })).statusCode, 201)

  const bob = new BoshClient(url, domain)

  t.test('session creation grants capped terms and offers SASL PLAIN', async t => {
    const body = await bob.create(60)
    t.match(body.attrs, { xmlns: HTTPBIND, wait: '3', hold: '1', requests: '2', from: domain, 'xmpp:version': '1.0' })
    t.ok(bob.sid.length >= 16, 'a sid')
    t.equal(body.getChild('features')?.getChild('mechanisms')?.getChildText('mechanism'), 'PLAIN')
  })

  t.test('a wrong password is refused, the right one signs in, and bind gives the JID', async t => {
    const wrong = Buffer.from('\u0000bob\u0000wrong password').toString('base64')
    const refused = await bob.post(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${wrong}</auth>`)
    t.ok(refused.getChild('failure')?.getChild('not-authorized'), 'not-authorized')
    const jid = await bob.signIn('bob', password)
    t.match(jid, /^bob@chat\.test\/test\.[0-9a-f]+$/)
    const info = await bob.post(`<iq type='get' id='d1' to='${domain}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
    const features = info.getChild('iq')?.getChild('query')?.getChildren('feature').map(f => f.attrs.var)
    t.ok(features?.includes('urn:xmpp:message-correct:0'), 'disco lists corrections')
  })

  t.test('joining a MUC room: occupants, own presence, history, subject', async t => {
    const body = await bob.post(`<presence to='lobby@${muc}/bobby'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='10'/></x></presence>`)
    const presences = child(body, 'presence')
    t.same(presences.map(p => p.attrs.from), [`lobby@${muc}/alice`, `lobby@${muc}/bob`])
    const codes = presences[1]?.getChild('x')?.getChildren('status').map(s => s.attrs.code)
    t.same(codes, ['100', '110', '210'], 'own presence, nick assigned')
    const messages = child(body, 'message')
    t.equal(messages[0]?.getChildText('body'), 'before you came')
    t.ok(messages[0]?.getChild('delay'), 'history is delayed')
    t.ok(messages.at(-1)?.getChild('subject') !== undefined, 'the subject ends the join')
  })

  t.test('a private channel one is not in is not found', async t => {
    const body = await bob.post(`<presence to='secret@${muc}/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
    const error = child(body, 'presence')[0]
    t.equal(error?.attrs.type, 'error')
    t.ok(error?.getChild('error')?.getChild('item-not-found'))
  })

  t.test('a groupchat message reaches a web user\'s poll, once however often it is resent', async t => {
    const head = (await as(app, alice, 'GET', '/api/poll')).json().cursor as string
    const stanza = `<message type='groupchat' to='lobby@${muc}' id='m1'><body>hello from xmpp</body><origin-id xmlns='urn:xmpp:sid:0' id='origin-1'/></message>`
    const reflected = await bob.post(stanza)
    const echo = child(reflected, 'message')[0]
    t.equal(echo?.getChildText('body'), 'hello from xmpp', 'the room reflects it')
    t.equal(echo?.attrs.id, 'origin-1')
    const polled = (await as(app, alice, 'GET', `/api/poll?cursor=${head}&timeout=3`)).json()
    t.match(polled.events, [{ type: 'message', text: 'hello from xmpp', clientId: 'origin-1', user: { username: 'bob' } }])
    await bob.post(stanza.replace("id='m1'", "id='m2'"), '', ++bob.rid).catch(() => null)
    const history = (await as(app, alice, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ text: string }>
    t.equal(history.filter(e => e.text === 'hello from xmpp').length, 1, 'stored once')
  })

  t.test('an HTTP API send arrives as a groupchat stanza on the held request', async t => {
    const held = bob.next()
    await new Promise(resolve => setTimeout(resolve, 100))
    t.equal((await as(app, alice, 'POST', '/api/rooms/lobby/messages', { text: 'hi bob', clientId: 'web-1' })).statusCode, 201)
    const stanzas = await held
    const message = stanzas.find(s => s.name === 'message')
    t.equal(message?.attrs.type, 'groupchat')
    t.equal(message?.attrs.from, `lobby@${muc}/alice`)
    t.equal(message?.getChildText('body'), 'hi bob')
  })

  t.test('a repeated rid gets the same answer again', async t => {
    const rid = ++bob.rid
    const first = await bob.postText('<iq type=\'get\' id=\'p1\'><ping xmlns=\'urn:xmpp:ping\'/></iq>', rid)
    const again = await bob.postText('<iq type=\'get\' id=\'p1\'><ping xmlns=\'urn:xmpp:ping\'/></iq>', rid)
    t.match(first, /type="result"/)
    t.equal(again, first)
  })

  t.test('bad input gets a BOSH terminate, never a 5xx', async t => {
    for (const text of ['<body xmlns', '<!DOCTYPE x [<!ENTITY a "aaaa">]><body/>', '<body>&lol;</body>', `<body xmlns='${HTTPBIND}'>${'<a>'.repeat(40)}${'</a>'.repeat(40)}</body>`, 'x'.repeat(70000), '']) {
      const res = await BoshClient.raw(url, text)
      t.equal(res.status, 200)
      t.match(parse(res.text).attrs, { type: 'terminate', condition: 'bad-request' }, text.slice(0, 30))
    }
    const unknown = await BoshClient.raw(url, `<body xmlns='${HTTPBIND}' sid='nope' rid='1'/>`)
    t.match(parse(unknown.text).attrs, { type: 'terminate', condition: 'item-not-found' })
  })

  t.test('an rid outside the window ends the session', async t => {
    const far = await bob.post('', '', bob.rid + 10)
    t.match(far.attrs, { type: 'terminate', condition: 'item-not-found' })
    const after = await bob.post('')
    t.match(after.attrs, { type: 'terminate', condition: 'item-not-found' })
  })
})
