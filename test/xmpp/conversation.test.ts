import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`
const password = 'correct horse battery'

const messages = (stanzas: Element[]): Element[] => stanzas.filter(s => s.name === 'message')

/** Edits, retractions, one-to-one chat, bans and revocation, each against what the web API sees. */
t.test('XMPP conversations', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const url = `${await listenOn(app)}/http-bind`
  const web = await register(app, 'webby')
  const xmppUser = await register(app, 'xavier')
  await register(app, 'carol')
  t.equal((await as(app, web, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  t.equal((await as(app, web, 'POST', '/api/rooms', { name: 'strict' })).statusCode, 201)
  t.equal((await as(app, web, 'POST', '/api/rooms/strict/bans', { username: 'xavier' })).statusCode, 204)

  const x = new BoshClient(url, domain)
  await x.create(3)
  await x.signIn('xavier', password)
  const joined = await x.post(`<presence to='lobby@${muc}/xavier'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
  t.ok(messages(joined.getChildElements()).at(-1)?.getChild('subject'), 'joined')

  t.test('a ban forbids the join', async t => {
    const body = await x.post(`<presence to='strict@${muc}/xavier'/>`)
    const error = body.getChild('presence')?.getChild('error')
    t.equal(error?.attrs.type, 'auth')
    t.ok(error?.getChild('forbidden'))
  })

  t.test('a correction from XMPP is our edit; a web edit is a correction', async t => {
    const sent = await x.post(`<message type='groupchat' to='lobby@${muc}' id='c1'><body>helo</body></message>`)
    const original = messages(sent.getChildElements())[0]
    const messageId = original?.getChild('stanza-id')?.attrs.id ?? ''
    const fixed = await x.post(`<message type='groupchat' to='lobby@${muc}' id='c2'><body>hello</body><replace xmlns='urn:xmpp:message-correct:0' id='c1'/></message>`)
    t.equal(messages(fixed.getChildElements())[0]?.getChild('replace')?.attrs.id, 'c1')
    const history = (await as(app, web, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ id: string, text: string }>
    t.equal(history.find(e => e.id === messageId)?.text, 'hello')

    const posted = (await as(app, web, 'POST', '/api/rooms/lobby/messages', { text: 'typo', clientId: 'w1' })).json().event
    t.equal(messages(await x.next())[0]?.getChildText('body'), 'typo')
    t.equal((await as(app, web, 'PATCH', `/api/rooms/lobby/messages/${String(posted.id)}`, { text: 'no typo' })).statusCode, 200)
    const correction = messages(await x.next())[0]
    t.equal(correction?.getChild('replace')?.attrs.id, 'w1', 'names the id the client knows')
    t.equal(correction?.getChildText('body'), 'no typo')
  })

  t.test('a retraction from XMPP deletes; a web delete is a retraction', async t => {
    const sent = await x.post(`<message type='groupchat' to='lobby@${muc}' id='r1'><body>oops</body></message>`)
    const id = messages(sent.getChildElements())[0]?.getChild('stanza-id')?.attrs.id ?? ''
    const retracted = await x.post(`<message type='groupchat' to='lobby@${muc}' id='r2'><retract xmlns='urn:xmpp:message-retract:1' id='${id}'/></message>`)
    t.equal(messages(retracted.getChildElements())[0]?.getChild('retract')?.attrs.id, id)
    const history = (await as(app, web, 'GET', '/api/rooms/lobby/messages')).json().events as Array<{ id: string }>
    t.notOk(history.some(e => e.id === id), 'gone from history')

    const posted = (await as(app, web, 'POST', '/api/rooms/lobby/messages', { text: 'regret' })).json().event
    await x.next()
    t.equal((await as(app, web, 'DELETE', `/api/rooms/lobby/messages/${String(posted.id)}`)).statusCode, 204)
    t.equal(messages(await x.next())[0]?.getChild('retract')?.attrs.id, String(posted.id))
  })

  t.test('someone else\'s message cannot be corrected', async t => {
    const posted = (await as(app, web, 'POST', '/api/rooms/lobby/messages', { text: 'mine' })).json().event
    await x.next()
    const refused = await x.post(`<message type='groupchat' to='lobby@${muc}' id='e1'><body>yours</body><replace xmlns='urn:xmpp:message-correct:0' id='${String(posted.id)}'/></message>`)
    t.ok(refused.getChild('message')?.getChild('error')?.getChild('forbidden'))
  })

  t.test('one-to-one chat is the direct room, both ways', async t => {
    const sent = await x.post(`<message type='chat' to='webby@${domain}' id='d1'><body>psst</body></message>`, '')
    t.same(sent.getChildElements().map(s => s.name), ['iq'], 'no echo of one\'s own chat, only the roster push of the new contact')
    const rooms = (await as(app, web, 'GET', '/api/rooms')).json().rooms as Array<{ id: string, kind: string }>
    const direct = rooms.find(r => r.kind === 'direct')
    t.ok(direct, 'the web user has the direct room')
    const history = (await as(app, web, 'GET', `/api/rooms/${direct?.id ?? ''}/messages`)).json().events
    t.match(history, [{ text: 'psst', clientId: 'd1', user: { username: 'xavier' } }])
    t.equal((await as(app, web, 'POST', `/api/rooms/${direct?.id ?? ''}/messages`, { text: 'what?' })).statusCode, 201)
    const reply = messages(await x.next())[0]
    t.match(reply?.attrs, { type: 'chat', from: `webby@${domain}` })
    t.equal(reply?.getChildText('body'), 'what?')
  })

  t.test('revoking every session of the user ends the stream', async t => {
    t.equal((await as(app, xmppUser, 'POST', '/api/sessions/revoke')).statusCode, 204)
    const body = await x.post('')
    t.match(body.attrs, { type: 'terminate', condition: 'policy-violation' })
  })
})
