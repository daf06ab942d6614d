import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`

const presences = (stanzas: Element[]): Element[] => stanzas.filter(s => s.name === 'presence')
const showOf = (p: Element | undefined): string | null => p?.getChildText('show') ?? null

/** Our presence (online: a poll held or seen lately) as XMPP presence, for roster contacts and MUC occupants. */
t.test('XMPP presence', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const url = `${await listenOn(app)}/http-bind`
  const wendy = await register(app, 'wendy')
  const oscar = await register(app, 'oscar')
  const xena = await register(app, 'xena')
  t.equal((await as(app, wendy, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  for (const s of [oscar, xena]) t.equal((await as(app, s, 'POST', '/api/rooms/lobby/join')).statusCode, 200)
  for (const s of [wendy, oscar]) t.ok([200, 201].includes((await as(app, s, 'POST', '/api/direct', { username: 'xena' })).statusCode))
  // Wendy's web client polls: she is online. Oscar never polled: offline.
  t.equal((await as(app, wendy, 'GET', '/api/poll?timeout=0')).statusCode, 200)

  const x = new BoshClient(url, domain)
  await x.create(3)
  await x.signIn('xena', 'correct horse battery')

  t.test('initial presence brings the online contacts, once', async t => {
    const roster = await x.post("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    const items = roster.getChild('iq')?.getChild('query')?.getChildren('item').map(i => i.attrs.jid).sort()
    t.same(items, [`oscar@${domain}`, `wendy@${domain}`])
    const initial = await x.post('<presence/>')
    t.same(presences(initial.getChildElements()).map(p => p.attrs.from), [`wendy@${domain}/chat`], 'only the online contact')
    t.notOk(presences(initial.getChildElements())[0]?.attrs.type, 'available')
    t.same((await x.post('<presence><show>away</show></presence>')).getChildElements(), [], 'the client\'s own show is not passed on, and contacts come once')
  })

  t.test('MUC occupants: online members available, offline ones xa', async t => {
    const joined = await x.post(`<presence to='lobby@${muc}/xena'/>`)
    const byNick = new Map(presences(joined.getChildElements()).map(p => [p.attrs.from, p]))
    t.equal(showOf(byNick.get(`lobby@${muc}/wendy`)), null, 'wendy is available')
    t.equal(showOf(byNick.get(`lobby@${muc}/oscar`)), 'xa', 'oscar is shown away')
  })

  t.test('an offline member who acts is shown available, as occupant and contact', async t => {
    t.equal((await as(app, oscar, 'POST', '/api/rooms/lobby/messages', { text: 'back' })).statusCode, 201)
    const stanzas = await x.next()
    const froms = presences(stanzas).map(p => p.attrs.from)
    t.ok(froms.includes(`lobby@${muc}/oscar`), 'occupant presence')
    t.ok(froms.includes(`oscar@${domain}/chat`), 'contact presence')
    t.ok(presences(stanzas).every(p => showOf(p) === null && p.attrs.type === undefined), 'available')
    t.equal(stanzas.find(s => s.name === 'message')?.getChildText('body'), 'back')
    t.equal((await as(app, oscar, 'POST', '/api/rooms/lobby/messages', { text: 'again' })).statusCode, 201)
    t.same(presences(await x.next()), [], 'shown once')
  })
})
