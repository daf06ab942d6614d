import type { XmppState } from './context.js'
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
    case 'member.joined':
      return e.user.username === state.user?.username ? [] : [occupantPresence(state, room, e.user.username, 'member')]
    case 'member.left': {
      const who = e.target ?? e.user
      if (who.username === state.user?.username) {
        // Kicked, banned or left from another client: this stream is out of the room too.
        state.rooms.delete(room.id)
        return [occupantPresence(state, room, who.username, null, [110])]
      }
      return [occupantPresence(state, room, who.username, null)]
    }
    case 'typing':
      return e.user.username === state.user?.username ? [] : [typingMessage(state, room, e)]
    default:
      return []
  }
}
