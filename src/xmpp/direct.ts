import { Value } from 'typebox/value'
import type { AuthUser } from '../auth/service.js'
import { ClientId, MessageText } from '../http/schemas.js'
import { rosterPush } from './blocking.js'
import type { Arrival, XmppServices, XmppState } from './context.js'
import { errorStanzaFor } from './errors.js'
import type { EventView } from './muc-stanzas.js'
import { NS } from './namespaces.js'
import { stanzaError } from './stanzas.js'
import { el, type Element } from './xml.js'

/** Learns this user's direct rooms and who is on the other side (at bind; new ones as they are opened). */
export async function loadDirects (ctx: XmppServices, state: XmppState): Promise<void> {
  for (const r of await ctx.rooms.listMine(state.user as AuthUser)) {
    if (r.kind === 'direct' && r.peer !== null) state.directs.set(r.id, r.peer.username)
  }
}

const clientIdOf = (message: Element): string | null => {
  const id = message.getChild('origin-id', NS.sid)?.attrs.id ?? message.attrs.id
  return id !== undefined && Value.Check(ClientId, id) ? id : null
}

/**
 * `<message type='chat'>` to `user@domain` is a message in our direct room
 * with that user, opened as `POST /api/direct` opens it (blocks refuse it).
 * A chat state without a body (XEP-0085 `composing`) is our typing notice.
 */
export async function chat (ctx: XmppServices, state: XmppState, message: Element, peer: string, arrival: Arrival): Promise<Element[]> {
  const user = state.user as AuthUser
  const body = message.getChildText('body')
  const composing = message.getChild('composing', NS.chatStates) !== undefined
  if (body === null && !composing) return []
  if (body !== null && !Value.Check(MessageText, body)) return [stanzaError(message, 'modify', 'bad-request', 'A message is 1-4000 characters, not only white space.')]
  try {
    await ctx.limits.send(user, arrival.ip, arrival.reply)
    const { room } = await ctx.rooms.direct(user, peer)
    // A chat with someone new makes them a roster contact (RFC 6121 §2.1.6).
    const known = [...state.directs.values()].includes(peer)
    state.directs.set(room.id, peer)
    if (body === null) await ctx.messages.typing(user, String(room.id))
    else await ctx.messages.send(user, String(room.id), body, clientIdOf(message))
    return known ? [] : [rosterPush(state, peer)]
  } catch (err) {
    return [errorStanzaFor(message, err)]
  }
}

/** A message or typing notice in a direct room, as the other user's chat stanza; our own (from another client) are not echoed. */
export function directStanzas (state: XmppState, e: EventView): Element[] {
  // Someone opened a direct room with this user after the bind: a new roster contact (RFC 6121 §2.1.6).
  if (e.type === 'room.created' && e.room?.kind === 'direct' && e.roomId !== null && e.user.username !== state.user?.username) {
    const known = [...state.directs.values()].includes(e.user.username)
    state.directs.set(Number(e.roomId), e.user.username)
    return known ? [] : [rosterPush(state, e.user.username)]
  }
  const peer = e.roomId === null ? undefined : state.directs.get(Number(e.roomId))
  if (peer === undefined || e.user.username !== peer) return []
  const from = `${peer}@${state.domains.domain}`
  if (e.type === 'typing') return [el('message', { xmlns: NS.client, type: 'chat', from, to: state.fullJid }, el('composing', { xmlns: NS.chatStates }))]
  if (e.type !== 'message') return []
  const id = e.clientId ?? String(e.id)
  state.rememberStanzaId(Number(e.id), id)
  return [el('message', { xmlns: NS.client, type: 'chat', from, to: state.fullJid, id },
    el('body', {}, e.text ?? ''),
    el('active', { xmlns: NS.chatStates }),
    el('stanza-id', { xmlns: NS.sid, id: String(e.id), by: state.bareJid }))]
}
