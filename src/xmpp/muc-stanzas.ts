import type { Role } from '../rooms/repository.js'
import type { JoinedRoom, XmppState } from './context.js'
import { NS } from './namespaces.js'
import { el, type Element } from './xml.js'

/** The fields of one of our events (poll JSON or a history entry) that stanzas are made from. */
export interface EventView {
  id: string | null
  type: string
  roomId: string | null
  user: { id: string, username: string, displayName: string }
  createdAt: string
  text?: string
  clientId?: string | null
  messageId?: string
  target?: { id: string, username: string }
  by?: { id: string, username: string }
  room?: { kind: string }
}

const affiliations: Record<Role, { affiliation: string, role: string }> = {
  owner: { affiliation: 'owner', role: 'moderator' },
  moderator: { affiliation: 'admin', role: 'moderator' },
  member: { affiliation: 'member', role: 'participant' }
}

export const roomJid = (state: XmppState, room: { name: string }): string => `${room.name}@${state.domains.muc}`

/** How an occupant left when a moderator removed them (XEP-0045 §8.2, §9.1): kicked (307) or banned (301), and by whom. */
export interface Removal { banned: boolean, actor: string }

/** What else an occupant's presence says: status codes, a moderator's removal, and whether they are offline (`<show>xa</show>`). */
export interface OccupantExtras { codes?: number[], removal?: Removal, offline?: boolean }

/** An occupant's presence in a room (XEP-0045 §7.2.3): every member is an occupant, under their username. */
export function occupantPresence (state: XmppState, room: { name: string }, username: string, role: Role | null, extras: OccupantExtras = {}): Element {
  const { codes = [], removal, offline = false } = extras
  const item = role !== null
    ? el('item', { ...affiliations[role], jid: `${username}@${state.domains.domain}` })
    : el('item', { affiliation: removal?.banned === true ? 'outcast' : 'member', role: 'none' },
      removal === undefined ? undefined : el('actor', { nick: removal.actor }))
  const status = removal === undefined ? codes : [removal.banned ? 301 : 307, ...codes]
  const x = el('x', { xmlns: NS.mucUser }, item, ...status.map(code => el('status', { code })))
  return el('presence', { xmlns: NS.client, from: `${roomJid(state, room)}/${username}`, to: state.fullJid, type: role === null ? 'unavailable' : undefined },
    role !== null && offline ? el('show', {}, 'xa') : undefined, x)
}

/** The stanza id a client knows a message by: the one it sent (our clientId), else our event id. */
export const stanzaIdOf = (e: EventView): string => e.clientId ?? String(e.id)

/** A room message as a groupchat stanza; `delayed` for history (XEP-0203). */
export function groupchatMessage (state: XmppState, room: JoinedRoom, e: EventView, delayed: boolean): Element {
  const id = stanzaIdOf(e)
  return el('message', { xmlns: NS.client, type: 'groupchat', from: `${roomJid(state, room)}/${e.user.username}`, to: state.fullJid, id },
    el('body', {}, e.text ?? ''),
    e.clientId === null || e.clientId === undefined ? undefined : el('origin-id', { xmlns: NS.sid, id: e.clientId }),
    el('stanza-id', { xmlns: NS.sid, id: String(e.id), by: roomJid(state, room) }),
    delayed ? el('delay', { xmlns: NS.delay, stamp: e.createdAt, from: roomJid(state, room) }) : undefined)
}

/** An edit as a correction (XEP-0308) of the message the client knows by `originalId`. */
export function correctionMessage (state: XmppState, room: JoinedRoom, e: EventView, originalId: string): Element {
  return el('message', { xmlns: NS.client, type: 'groupchat', from: `${roomJid(state, room)}/${e.user.username}`, to: state.fullJid, id: String(e.id) },
    el('body', {}, e.text ?? ''),
    el('replace', { xmlns: NS.correct, id: originalId }),
    el('stanza-id', { xmlns: NS.sid, id: String(e.id), by: roomJid(state, room) }))
}

/** A deletion as a retraction (XEP-0424); in a room it names the message by the room's stanza id, our message id. */
export function retractionMessage (state: XmppState, room: JoinedRoom, e: EventView): Element {
  return el('message', { xmlns: NS.client, type: 'groupchat', from: `${roomJid(state, room)}/${e.user.username}`, to: state.fullJid, id: String(e.id) },
    el('retract', { xmlns: NS.retract, id: String(e.messageId) }),
    el('fallback', { xmlns: NS.fallback, for: NS.retract }),
    el('body', {}, 'This message was deleted.'))
}

/** The subject message that ends a join (XEP-0045 §7.2.15): clients wait for it. */
export function subjectMessage (state: XmppState, room: JoinedRoom, topic: string | null): Element {
  return el('message', { xmlns: NS.client, type: 'groupchat', from: roomJid(state, room), to: state.fullJid, id: `subject-${room.id}` },
    el('subject', {}, topic ?? ''))
}

/** A typing notice as a chat state (XEP-0085) from the occupant. */
export function typingMessage (state: XmppState, room: JoinedRoom, e: EventView): Element {
  return el('message', { xmlns: NS.client, type: 'groupchat', from: `${roomJid(state, room)}/${e.user.username}`, to: state.fullJid },
    el('composing', { xmlns: NS.chatStates }))
}
