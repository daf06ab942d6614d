import type { XmppState } from './context.js'
import { cameOnline } from './contacts.js'
import { directStanzas } from './direct.js'
import { typingMessage, correctionMessage, groupchatMessage, occupantPresence, retractionMessage, stanzaIdOf, type EventView } from './muc-stanzas.js'
import type { Element } from './xml.js'

/**
 * The stanzas one of our events means to this stream, from the poll engine's
 * answer (so visibility is exactly the HTTP poll's). Only rooms this stream
 * has joined as MUC rooms speak; other events move the cursor silently.
 */
export function eventStanzas (state: XmppState, json: string): Element[] {
  const e = JSON.parse(json) as EventView
  return [...cameOnline(state, e), ...roomOrDirectStanzas(state, e)]
}

function roomOrDirectStanzas (state: XmppState, e: EventView): Element[] {
  const room = e.roomId === null ? undefined : state.rooms.get(Number(e.roomId))
  if (room === undefined) return directStanzas(state, e)
  switch (e.type) {
    case 'message':
      // The join's history already held it.
      if (Number(e.id) <= room.historyUpTo) return []
      state.rememberStanzaId(Number(e.id), stanzaIdOf(e))
      return [groupchatMessage(state, room, e, false)]
    case 'message.edited':
      return [correctionMessage(state, room, e, state.stanzaIds.get(Number(e.messageId)) ?? String(e.messageId))]
    case 'message.deleted':
      return [retractionMessage(state, room, e)]
    case 'member.unbanned':
      if (e.target !== undefined) room.banning.delete(e.target.username)
      return []
    case 'member.joined':
      // A ban of someone who was no member has no leave: forget it once they are back.
      room.banning.delete(e.user.username)
      room.offline.delete(e.user.username)
      return e.user.username === state.user?.username ? [] : [occupantPresence(state, room, e.user.username, 'member')]
    case 'member.banned':
      // The member.left of the same ban follows: it is a ban (301), not a kick (307).
      if (e.target !== undefined) room.banning.add(e.target.username)
      return []
    case 'member.left': {
      const who = e.target ?? e.user
      const removal = e.by === undefined ? undefined : { banned: room.banning.delete(who.username), actor: e.by.username }
      if (who.username === state.user?.username) {
        // Kicked, banned or left from another client: this stream is out of the room too.
        state.rooms.delete(room.id)
        return [occupantPresence(state, room, who.username, null, { codes: [110], removal })]
      }
      return [occupantPresence(state, room, who.username, null, { removal })]
    }
    case 'typing':
      return e.user.username === state.user?.username ? [] : [typingMessage(state, room, e)]
    default:
      return []
  }
}
