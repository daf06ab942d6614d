import t from 'tap'
import { as, buildTestApp, listenOn, register } from '../helper.js'
import { BoshClient, type Element } from './bosh-client.js'

const domain = 'chat.test'
const muc = `conference.${domain}`
const password = 'correct horse battery'
const admin = 'http://jabber.org/protocol/muc#admin'

const kick = (id: string, nick: string): string => `<iq type='set' id='${id}' to='lobby@${muc}'><query xmlns='${admin}'><item nick='${nick}' role='none'><reason>spam</reason></item></query></iq>`
const ban = (id: string, user: string, room = 'lobby'): string => `<iq type='set' id='${id}' to='${room}@${muc}'><query xmlns='${admin}'><item jid='${user}@${domain}' affiliation='outcast'/></query></iq>`
const errorOf = (body: Element): string | undefined => body.getChild('iq')?.getChild('error')?.getChildElements()[0]?.name
const presences = (stanzas: Element[], from: string): Element[] => stanzas.filter(s => s.name === 'presence' && s.attrs.from === from)
const codes = (p: Element | undefined): string[] => p?.getChild('x')?.getChildren('status').map(s => s.attrs.code ?? '') ?? []

async function signedIn (url: string, username: string): Promise<BoshClient> {
  const c = new BoshClient(url, domain)
  await c.create(3)
  await c.signIn(username, password)
  await c.post(`<presence to='lobby@${muc}/${username}'/>`)
  return c
}

/** Kicks and bans from XMPP (XEP-0045 §8.2, §9.1) go through our moderation, with its rules; occupants see 307/301. */
t.test('MUC moderation from XMPP', async t => {
  const app = await buildTestApp(t, { XMPP_DOMAIN: domain, POLL_TIMEOUT: '3', POLL_MAX_TIMEOUT: '5' })
  const url = `${await listenOn(app)}/http-bind`
  const owner = await register(app, 'olga')
  const modSession = await register(app, 'mona')
  const users = { mallory: await register(app, 'mallory'), nina: await register(app, 'nina'), pete: await register(app, 'pete') }
  t.equal((await as(app, owner, 'POST', '/api/rooms', { name: 'lobby' })).statusCode, 201)
  for (const s of [modSession, ...Object.values(users)]) t.equal((await as(app, s, 'POST', '/api/rooms/lobby/join')).statusCode, 200)
  t.equal((await as(app, owner, 'POST', '/api/rooms/lobby/roles', { username: 'mona', role: 'moderator' })).statusCode, 204)

  const mona = await signedIn(url, 'mona')
  const mallory = await signedIn(url, 'mallory')
  const nina = await signedIn(url, 'nina')

  t.test('a member may not kick: forbidden, nothing changes', async t => {
    const refused = await nina.post(kick('k0', 'mallory'))
    t.equal(errorOf(refused), 'forbidden')
    const members = (await as(app, owner, 'GET', '/api/rooms/lobby/members')).json().members as Array<{ username: string }>
    t.ok(members.some(m => m.username === 'mallory'), 'still a member')
  })

  t.test('a moderator may not kick the owner or another moderator: not-allowed', async t => {
    t.equal(errorOf(await mona.post(kick('k1', 'olga'))), 'not-allowed')
    t.equal(errorOf(await mona.post(ban('b1', 'olga'))), 'not-allowed')
  })

  t.test('unknown people and bad items', async t => {
    t.equal(errorOf(await mona.post(kick('k2', 'nobody'))), 'item-not-found')
    t.equal(errorOf(await mona.post(ban('b2', 'nobody'))), 'item-not-found')
    t.equal(errorOf(await mona.post(`<iq type='set' id='b3' to='lobby@${muc}'><query xmlns='${admin}'><item jid='x@elsewhere.example' affiliation='outcast'/></query></iq>`)), 'bad-request')
    t.equal(errorOf(await mona.post(`<iq type='set' id='b4' to='lobby@${muc}'><query xmlns='${admin}'><item nick='nina' role='visitor'/></query></iq>`)), 'feature-not-implemented')
    t.equal(errorOf(await mona.post(`<iq type='set' id='b5' to='nowhere@${muc}'><query xmlns='${admin}'><item nick='nina' role='none'/></query></iq>`)), 'item-not-found')
  })

  t.test('a kick: the result, our member.left, and 307 to the kicked and to the others', async t => {
    const result = await mona.post(kick('k3', 'mallory'))
    t.equal(result.getChild('iq')?.attrs.type, 'result')
    const members = (await as(app, owner, 'GET', '/api/rooms/lobby/members')).json().members as Array<{ username: string }>
    t.notOk(members.some(m => m.username === 'mallory'), 'no longer a member')
    const own = presences(await mallory.next(), `lobby@${muc}/mallory`)[0]
    t.equal(own?.attrs.type, 'unavailable')
    t.same(codes(own), ['307', '110'])
    const seen = presences(await nina.next(), `lobby@${muc}/mallory`)[0]
    t.same(codes(seen), ['307'])
    t.equal(seen?.getChild('x')?.getChild('item')?.getChild('actor')?.attrs.nick, 'mona')
  })

  t.test('a ban: our ban (no rejoin), and 301 with affiliation outcast', async t => {
    const result = await mona.post(ban('b6', 'nina'))
    t.equal(result.getChild('iq')?.attrs.type, 'result')
    const own = presences(await nina.next(), `lobby@${muc}/nina`)[0]
    t.same(codes(own), ['301', '110'])
    t.equal(own?.getChild('x')?.getChild('item')?.attrs.affiliation, 'outcast')
    t.equal((await as(app, users.nina, 'POST', '/api/rooms/lobby/join')).statusCode, 403, 'banned over HTTP too')
    const list = await mona.post(`<iq type='get' id='l1' to='lobby@${muc}'><query xmlns='${admin}'><item affiliation='outcast'/></query></iq>`)
    t.same(list.getChild('iq')?.getChild('query')?.getChildren('item').map(i => i.attrs.jid), [`nina@${domain}`])
  })

  t.test('a ban may name the nick', async t => {
    const result = await mona.post(`<iq type='set' id='b7' to='lobby@${muc}'><query xmlns='${admin}'><item nick='mallory' affiliation='outcast'/></query></iq>`)
    t.equal(result.getChild('iq')?.attrs.type, 'result')
    const bans = (await as(app, owner, 'GET', '/api/rooms/lobby/bans')).json().bans as Array<{ user: { username: string } }>
    t.same(bans.map(b => b.user.username).sort(), ['mallory', 'nina'])
  })

  t.test('a web kick reaches an XMPP occupant as 307', async t => {
    const pete = await signedIn(url, 'pete')
    t.equal((await as(app, owner, 'POST', '/api/rooms/lobby/kick', { username: 'pete' })).statusCode, 204)
    t.same(codes(presences(await pete.next(), `lobby@${muc}/pete`)[0]), ['307', '110'])
  })
})
