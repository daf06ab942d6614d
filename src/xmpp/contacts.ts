import type { AuthUser } from '../auth/service.js'
import { AppError } from '../http/errors.js'
import type { XmppServices, XmppState } from './context.js'
import { occupantPresence, type EventView } from './muc-stanzas.js'
import { NS } from './namespaces.js'
import { el, type Element } from './xml.js'

// A user of ours may be on several clients (web, curl, XMPP): to a contact
// they are one resource standing for all of them.
const contactResource = 'chat'

// Bounds the one-time look at contacts' presence (one query each).
const maxContacts = 200

// Events that show their author is here now: they sent, corrected or typed.
const acting = new Set(['message', 'message.edited', 'typing'])

/** A contact's available presence (RFC 6121 §4.2.3); our presence has no away, only online. */
function contactPresence (state: XmppState, username: string): Element {
  return el('presence', { xmlns: NS.client, from: `${username}@${state.domains.domain}/${contactResource}`, to: state.fullJid })
}

/**
 * The client's initial presence (RFC 6121 §4.2): the roster contacts online
 * now (by our presence: a poll held, or seen in the last minute), once per stream.
 */
export async function initialPresence (ctx: XmppServices, state: XmppState): Promise<Element[]> {
  if (state.contactsOnline !== null) return []
  const online = new Set<string>()
  state.contactsOnline = online
  for (const [roomId, peer] of [...state.directs].slice(0, maxContacts)) {
    try {
      const member = (await ctx.rooms.members(state.user as AuthUser, String(roomId))).find(m => m.username === peer)
      if (member?.online === true) online.add(peer)
    } catch (err) {
      // A direct room left since the bind: no contact there any more.
      if (!(err instanceof AppError)) throw err
    }
  }
  return [...online].map(peer => contactPresence(state, peer))
}

/**
 * Someone acting in a room this stream sees is online now: an occupant shown
 * offline there, or a contact not shown online, is shown available. (Going
 * offline is no event of ours, so it is not shown: docs/XMPP.md.)
 */
export function cameOnline (state: XmppState, e: EventView): Element[] {
  const who = e.user.username
  if (!acting.has(e.type) || who === state.user?.username) return []
  const out: Element[] = []
  const room = e.roomId === null ? undefined : state.rooms.get(Number(e.roomId))
  const role = room?.offline.get(who)
  if (room !== undefined && role !== undefined) {
    room.offline.delete(who)
    out.push(occupantPresence(state, room, who, role))
  }
  const contacts = state.contactsOnline
  if (contacts !== null && !contacts.has(who) && [...state.directs.values()].includes(who)) {
    contacts.add(who)
    out.push(contactPresence(state, who))
  }
  return out
}
