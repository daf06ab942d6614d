import { Value } from 'typebox/value'
import { ClientId, MessageText } from '../http/schemas.js'
import type { AuthUser } from '../auth/service.js'
import type { Arrival, JoinedRoom, XmppServices, XmppState } from './context.js'
import { errorStanzaFor } from './errors.js'
import { parseJid } from './jid.js'
import { groupchatMessage, occupantPresence, subjectMessage, type EventView } from './muc-stanzas.js'
import { NS } from './namespaces.js'
import { stanzaError } from './stanzas.js'
import type { Element } from './xml.js'

const defaultHistory = 20

/** How many history messages a join asks for (`<history maxstanzas/>`), within the server's cap. */
function historySize (presence: Element, cap: number): number {
  const wanted = Number(presence.getChild('x', NS.muc)?.getChild('history')?.attrs.maxstanzas ?? defaultHistory)
  return Number.isInteger(wanted) && wanted >= 0 ? Math.min(wanted, cap) : Math.min(defaultHistory, cap)
}

/**
 * Presence to `room@conference.domain/nick` (XEP-0045 §7.2): joining goes
 * through our join, with its rules (a private channel one is not in is not
 * found, a ban forbids). The occupants are the room's members, under their
 * usernames (the nick the client asked for is replaced: status 210). Then the
 * recent history, then the subject, which tells the client the join is done.
 */
export async function joinRoom (ctx: XmppServices, state: XmppState, presence: Element): Promise<Element[]> {
  const user = state.user as AuthUser
  const to = parseJid(presence.attrs.to)
  if (to === null || to.local === null || to.resource === null) return [stanzaError(presence, 'modify', 'jid-malformed')]
  if (presence.attrs.type === 'unavailable') return leaveRoom(state, to.local)
  if (state.roomNamed(to.local) !== undefined) return []
  try {
    const room = await ctx.rooms.join(user, to.local)
    if (room.kind !== 'channel' || room.name === null) return [stanzaError(presence, 'cancel', 'item-not-found')]
    const members = await ctx.rooms.members(user, room.name)
    const page = await ctx.messages.history(user, room.name, { before: null, after: null }, Math.max(1, historySize(presence, ctx.maxHistory)))
    const history = historySize(presence, ctx.maxHistory) === 0 ? [] : page.events as EventView[]
    const joined: JoinedRoom = { id: room.id, name: room.name, nick: user.username, historyUpTo: Number(page.events.at(-1)?.id ?? 0), banning: new Set(), offline: new Map() }
    const out: Element[] = []
    for (const m of members) {
      if (m.username === user.username) continue
      // Our presence as far as it is known now: an offline member is an occupant shown as away (xa).
      if (!m.online) joined.offline.set(m.username, m.role)
      out.push(occupantPresence(state, joined, m.username, m.role, { offline: !m.online }))
    }
    const self = members.find(m => m.username === user.username)
    const codes = [100, 110, ...(to.resource === user.username ? [] : [210])]
    out.push(occupantPresence(state, joined, user.username, self?.role ?? 'member', { codes }))
    for (const e of history) {
      state.rememberStanzaId(Number(e.id), e.clientId ?? String(e.id))
      out.push(groupchatMessage(state, joined, e, true))
    }
    out.push(subjectMessage(state, joined, room.topic))
    state.rooms.set(room.id, joined)
    return out
  } catch (err) {
    return [errorStanzaFor(presence, err)]
  }
}

/** Leaving the MUC room ends this stream's occupancy only: membership of the channel stays, as in the web client's room list. */
function leaveRoom (state: XmppState, name: string): Element[] {
  const room = state.roomNamed(name)
  if (room === undefined) return []
  state.rooms.delete(room.id)
  return [occupantPresence(state, room, room.nick, null, { codes: [110] })]
}

/** The id a client gives a message (`origin-id`, XEP-0359, else the stanza's `id`): our clientId, so a resend is stored once. */
function clientIdOf (message: Element): string | null {
  const id = message.getChild('origin-id', NS.sid)?.attrs.id ?? message.attrs.id
  return id !== undefined && Value.Check(ClientId, id) ? id : null
}

/** Which of our messages a correction or retraction names: a stanza id this stream saw, or our message id. */
function messageIdFor (state: XmppState, stanzaId: string | undefined): number | null {
  if (stanzaId === undefined) return null
  for (const [messageId, seen] of state.stanzaIds) if (seen === stanzaId) return messageId
  return /^[0-9]{1,15}$/.test(stanzaId) ? Number(stanzaId) : null
}

/**
 * A groupchat message to a joined room: a send, a correction (XEP-0308) or a
 * retraction (XEP-0424), through the message service with the send rate
 * limit. Nothing is answered on success: the room's event comes back through
 * the feed, as the reflected message every occupant gets.
 */
export async function groupchat (ctx: XmppServices, state: XmppState, message: Element, arrival: Arrival): Promise<Element[]> {
  const user = state.user as AuthUser
  const to = parseJid(message.attrs.to)
  const room = to?.local === null || to === null ? undefined : state.roomNamed(to.local)
  if (room === undefined) return [stanzaError(message, 'modify', 'not-acceptable', 'Join the room first.')]
  const retract = message.getChild('retract', NS.retract)
  const body = message.getChildText('body')
  try {
    if (retract !== undefined) {
      const id = messageIdFor(state, retract.attrs.id)
      if (id === null) return [stanzaError(message, 'cancel', 'item-not-found')]
      await ctx.messages.remove(user, room.name, id)
      return []
    }
    if (body === null) return []
    if (!Value.Check(MessageText, body)) return [stanzaError(message, 'modify', 'bad-request', 'A message is 1-4000 characters, not only white space.')]
    await ctx.limits.send(user, arrival.ip, arrival.reply)
    const replace = message.getChild('replace', NS.correct)
    if (replace !== undefined) {
      const id = messageIdFor(state, replace.attrs.id)
      if (id === null) return [stanzaError(message, 'cancel', 'item-not-found')]
      await ctx.messages.edit(user, room.name, id, body)
      return []
    }
    await ctx.messages.send(user, room.name, body, clientIdOf(message))
    return []
  } catch (err) {
    return [errorStanzaFor(message, err)]
  }
}
