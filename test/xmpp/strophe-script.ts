import {
  $iq, $msg, $pres, bare, child, CORRECT_NS, errorOf, MUC_NS, resourceOf, statusCodes, StropheClient, text
} from './strophe-client.js'

// One conversation between two Strophe.js clients, alice and bob, written once
// and run against any BOSH server: this product (test/xmpp/strophe.test.ts) and
// Debian's Prosody (test/xmpp/prosody.test.ts), whose outcomes are compared.
// It records what a client sees, in terms both servers should agree on.

export interface Target {
  /** The BOSH URL the clients use (possibly through a proxy that loses one answer). */
  service: string
  domain: string
  muc: string
  password: string
  /** A room both may join, a room bob is banned from, and a room that does not exist. */
  lobby: string
  banned: string
  nowhere: string
  /** Runs right after alice's join of the lobby (Prosody: configure the new room so others may enter). */
  afterOwnerJoin?: (alice: StropheClient, room: string) => Promise<void>
}

export interface Outcome {
  aliceStatuses: string[]
  bobStatuses: string[]
  /** user@domain/resource with a non-empty resource. */
  aliceBound: boolean
  bobBound: boolean
  /** Self-presence of each join carries status 110. */
  aliceSelf110: boolean
  bobSelf110: boolean
  /** Each of alice's three messages came back to her (the reflection), ids as sent, from her occupant JID. */
  reflectedIds: string[]
  reflectedFromSelf: boolean
  /** bob joined asking for 2 stanzas of history: the bodies he got, each with a XEP-0203 delay. */
  history: string[]
  historyDelayed: boolean
  /** bob's groupchat message as alice saw it: from bob's occupant JID, the body. */
  bobToAlice: { from: string, body: string | undefined }
  /** alice's correction of her third message as bob saw it. */
  correction: { replaces: string | undefined, body: string | undefined }
  /** The message whose answer the proxy lost: how many times each side saw it. */
  replaySeenByAlice: number
  replaySeenByBob: number
  /** One-to-one chat, both ways: type, sender's bare JID, body. */
  aliceToBob: { type: string | null, from: string, body: string | undefined }
  bobToAlice1to1: { type: string | null, from: string, body: string | undefined }
  /** Whether that chat came from the sender's full JID (with the resource) rather than the bare JID. */
  chatFromFullJid: boolean
  /** Error conditions (`type/condition`) of bob's joins. */
  joinNowhere: string | undefined
  joinBanned: string | undefined
}

const isMessage = (s: Element): boolean => s.nodeName === 'message'
const isPresence = (s: Element): boolean => s.nodeName === 'presence'

async function join (c: StropheClient, room: string, nick: string, maxstanzas: number): Promise<Element> {
  const occupant = `${room}/${nick}`
  c.send($pres({ to: occupant }).c('x', { xmlns: MUC_NS }).c('history', { maxstanzas: String(maxstanzas) }))
  return await c.take(`self-presence in ${room}`, s => isPresence(s) && bare(s.getAttribute('from')) === room &&
    (statusCodes(s).includes('110') || s.getAttribute('type') === 'error'))
}

async function joinError (c: StropheClient, room: string, nick: string): Promise<string | undefined> {
  c.send($pres({ to: `${room}/${nick}` }).c('x', { xmlns: MUC_NS }))
  const answer = await c.take(`answer to the join of ${room}`, s => isPresence(s) && bare(s.getAttribute('from')) === room &&
    (s.getAttribute('type') === 'error' || statusCodes(s).includes('110')))
  return errorOf(answer) ?? 'joined'
}

/** Sends a groupchat message and returns the reflection. */
async function say (c: StropheClient, room: string, id: string, body: string): Promise<Element> {
  c.send($msg({ to: room, type: 'groupchat', id }).c('body').t(body))
  return await c.take(`reflection of ${id}`, s => isMessage(s) && s.getAttribute('id') === id && child(s, 'body') !== undefined)
}

export async function runConversation (target: Target): Promise<Outcome> {
  const { domain, muc, password } = target
  const lobby = `${target.lobby}@${muc}`
  const alice = new StropheClient(target.service)
  const bob = new StropheClient(target.service)
  try {
    const aliceStatuses = [...await alice.connect(`alice@${domain}`, password)]
    const bobStatuses = [...await bob.connect(`bob@${domain}`, password)]
    // Initial presence, as every client sends: a server delivers chat to a bare JID only to available resources.
    alice.send($pres())
    bob.send($pres())
    const boundRe = new RegExp(`^alice@${domain.replace(/\./g, '\\.')}/.+`)
    const aliceBound = boundRe.test(alice.conn.jid) && resourceOf(alice.conn.jid) !== ''
    const bobBound = bob.conn.jid.startsWith(`bob@${domain}/`) && resourceOf(bob.conn.jid) !== ''

    const aliceJoin = await join(alice, lobby, 'alice', 0)
    const aliceSelf110 = statusCodes(aliceJoin).includes('110')
    await target.afterOwnerJoin?.(alice, lobby)

    const reflections = []
    for (const [i, words] of ['one', 'two', 'three'].entries()) reflections.push(await say(alice, lobby, `a${i + 1}`, `alice says ${words}`))
    const reflectedIds = reflections.map(r => r.getAttribute('id') ?? '')
    const reflectedFromSelf = reflections.every(r => r.getAttribute('from') === `${lobby}/alice`)

    bob.send($pres({ to: `${lobby}/bob` }).c('x', { xmlns: MUC_NS }).c('history', { maxstanzas: '2' }))
    const bobJoin = await bob.take('bob\'s self-presence', s => isPresence(s) && bare(s.getAttribute('from')) === lobby && statusCodes(s).includes('110'))
    const bobSelf110 = statusCodes(bobJoin).includes('110')
    // History comes after the self-presence and before the subject (XEP-0045 §7.2.15-16).
    await bob.take('the subject', s => isMessage(s) && child(s, 'subject') !== undefined && child(s, 'body') === undefined)
    const past = bob.drain(s => isMessage(s) && bare(s.getAttribute('from')) === lobby && child(s, 'body') !== undefined)
    const history = past.map(s => text(child(s, 'body')) ?? '')
    const historyDelayed = past.every(s => child(s, 'delay', 'urn:xmpp:delay') !== undefined)

    await say(bob, lobby, 'b1', 'hello alice')
    const seen = await alice.take('bob\'s message', s => isMessage(s) && s.getAttribute('from') === `${lobby}/bob` && child(s, 'body') !== undefined)
    const bobToAlice = { from: seen.getAttribute('from') ?? '', body: text(child(seen, 'body')) }

    alice.send($msg({ to: lobby, type: 'groupchat', id: 'a4' }).c('body').t('alice says three!').up().c('replace', { xmlns: CORRECT_NS, id: 'a3' }))
    await alice.take('reflection of the correction', s => isMessage(s) && child(s, 'replace', CORRECT_NS) !== undefined)
    const fixed = await bob.take('the correction', s => isMessage(s) && child(s, 'replace', CORRECT_NS) !== undefined)
    const correction = { replaces: child(fixed, 'replace', CORRECT_NS)?.getAttribute('id') ?? undefined, body: text(child(fixed, 'body')) }

    // The proxy loses the answer to the request carrying this message; Strophe sends it again with the same rid.
    await say(alice, lobby, 'replay1', 'replay-me')
    await bob.take('the replayed message', s => isMessage(s) && text(child(s, 'body')) === 'replay-me')
    // Give a duplicate the time to show up: a ping round trip on each connection after the message.
    for (const c of [alice, bob]) await c.iq($iq({ type: 'get', to: domain }).c('ping', { xmlns: 'urn:xmpp:ping' }))
    const replaySeenByAlice = 1 + alice.drain(s => isMessage(s) && text(child(s, 'body')) === 'replay-me').length
    const replaySeenByBob = 1 + bob.drain(s => isMessage(s) && text(child(s, 'body')) === 'replay-me').length

    alice.send($msg({ to: `bob@${domain}`, type: 'chat', id: 'd1' }).c('body').t('psst, bob'))
    const got = await bob.take('alice\'s chat', s => isMessage(s) && s.getAttribute('type') === 'chat' && child(s, 'body') !== undefined)
    const chatFromFullJid = resourceOf(got.getAttribute('from')) !== ''
    const aliceToBob = { type: got.getAttribute('type'), from: bare(got.getAttribute('from')), body: text(child(got, 'body')) }
    bob.send($msg({ to: `alice@${domain}`, type: 'chat', id: 'd2' }).c('body').t('yes, alice?'))
    const back = await alice.take('bob\'s chat', s => isMessage(s) && s.getAttribute('type') === 'chat' && child(s, 'body') !== undefined)
    const bobToAlice1to1 = { type: back.getAttribute('type'), from: bare(back.getAttribute('from')), body: text(child(back, 'body')) }

    const joinNowhere = await joinError(bob, `${target.nowhere}@${muc}`, 'bob')
    const joinBanned = await joinError(bob, `${target.banned}@${muc}`, 'bob')

    return {
      aliceStatuses,
      bobStatuses,
      aliceBound,
      bobBound,
      aliceSelf110,
      bobSelf110,
      reflectedIds,
      reflectedFromSelf,
      history,
      historyDelayed,
      bobToAlice,
      correction,
      replaySeenByAlice,
      replaySeenByBob,
      aliceToBob,
      bobToAlice1to1,
      chatFromFullJid,
      joinNowhere,
      joinBanned
    }
  } finally {
    await Promise.all([alice.disconnect(), bob.disconnect()])
  }
}
