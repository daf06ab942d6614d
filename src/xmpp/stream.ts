import type { Arrival, XmppServices, XmppState } from './context.js'
import { initialPresence } from './contacts.js'
import { chat } from './direct.js'
import { handleIq } from './iq.js'
import { parseJid } from './jid.js'
import { groupchat, joinRoom } from './muc.js'
import { NS } from './namespaces.js'
import { authenticate } from './sasl.js'
import { stanzaError, streamFeatures } from './stanzas.js'
import type { Element } from './xml.js'

/** A stream restart (XEP-0206 §5): after SASL success the client asks for the features again, now bind and session. */
export function restart (state: XmppState): Element[] {
  if (state.stage !== 'restart') return []
  state.stage = 'bind'
  return [streamFeatures(true)]
}

/**
 * Presence: to a MUC room it joins or leaves. The client's own presence is
 * not passed on (ours comes from activity, and has no away); its first one
 * brings the contacts' presence.
 */
async function handlePresence (ctx: XmppServices, state: XmppState, presence: Element): Promise<Element[]> {
  const to = parseJid(presence.attrs.to)
  if (presence.attrs.to === undefined && presence.attrs.type === undefined) return await initialPresence(ctx, state)
  if (to === null) return []
  if (to.domain === state.domains.muc) return await joinRoom(ctx, state, presence)
  return []
}

async function handleMessage (ctx: XmppServices, state: XmppState, message: Element, arrival: Arrival): Promise<Element[]> {
  const to = parseJid(message.attrs.to)
  if (message.attrs.type === 'groupchat' && to?.domain === state.domains.muc) return await groupchat(ctx, state, message, arrival)
  if (message.attrs.type === 'error') return []
  if (to !== null && to.domain === state.domains.domain && to.local !== null && message.attrs.type !== 'groupchat') {
    return await chat(ctx, state, message, to.local, arrival)
  }
  return [stanzaError(message, 'cancel', 'service-unavailable')]
}

/**
 * One element a client sent in a BOSH body: SASL before sign-in, then
 * stanzas from the bound resource. Whatever the client put in `from` is
 * replaced by its own full JID, so answers and errors go back to it and it
 * cannot speak for anyone else.
 */
export async function handleElement (ctx: XmppServices, state: XmppState, element: Element, arrival: Arrival): Promise<Element[]> {
  if (element.name === 'auth' && element.attrs.xmlns === NS.sasl) return [await authenticate(ctx, state, element, arrival)]
  if (state.stage !== 'ready' && !(state.stage === 'bind' && element.name === 'iq')) return []
  element.attrs.from = state.resource === null ? state.bareJid : state.fullJid
  if (element.name === 'iq') return await handleIq(ctx, state, element, arrival)
  if (state.stage !== 'ready') return []
  ctx.presence.touch((state.user as { id: number }).id)
  if (element.name === 'presence') return await handlePresence(ctx, state, element)
  if (element.name === 'message') return await handleMessage(ctx, state, element, arrival)
  return []
}
