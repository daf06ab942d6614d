import { randomBytes } from 'node:crypto'
import type { AuthUser } from '../auth/service.js'
import type { XmppServices, XmppState } from './context.js'
import { errorStanzaFor } from './errors.js'
import { parseJid } from './jid.js'
import { NS } from './namespaces.js'
import { iqResult, stanzaError } from './stanzas.js'
import { el, type Element } from './xml.js'

/** A push from the server to this stream (XEP-0191 §3.3/§3.4, RFC 6121 §2.1.6): an iq set the client answers. */
export function pushIq (state: XmppState, payload: Element): Element {
  return el('iq', { xmlns: NS.client, type: 'set', id: `push-${randomBytes(6).toString('hex')}`, to: state.fullJid }, payload)
}

/** A roster push (RFC 6121 §2.1.6): a new contact, the other user of a direct room. */
export function rosterPush (state: XmppState, username: string): Element {
  return pushIq(state, el('query', { xmlns: NS.roster }, el('item', { jid: `${username}@${state.domains.domain}`, subscription: 'both' })))
}

/**
 * XEP-0191 blocking, as our blocks (`/api/blocks`): `<blocklist/>` lists them,
 * `<block/>` and `<unblock/>` go through the same service and rules. A
 * change is answered, then pushed to this stream (other streams and clients
 * learn of it at their next blocklist get: blocks are no event of ours).
 */
export async function blocking (ctx: XmppServices, state: XmppState, iq: Element, payload: Element): Promise<Element[]> {
  const user = state.user as AuthUser
  const domain = state.domains.domain
  if (payload.name === 'blocklist') {
    if (iq.attrs.type !== 'get') return [stanzaError(iq, 'modify', 'bad-request')]
    const blocked = await ctx.rooms.blocks(user)
    return [iqResult(iq, el('blocklist', { xmlns: NS.blocking }, ...blocked.map(u => el('item', { jid: `${u.username}@${domain}` }))))]
  }
  if (iq.attrs.type !== 'set' || (payload.name !== 'block' && payload.name !== 'unblock')) return [stanzaError(iq, 'modify', 'bad-request')]
  const items = payload.getChildren('item')
  const usernames: string[] = []
  for (const item of items) {
    const jid = parseJid(item.attrs.jid)
    // Only our users can be blocked: a bare JID of this domain.
    if (jid === null || jid.local === null || jid.domain !== domain || jid.resource !== null) return [stanzaError(iq, 'modify', 'jid-malformed')]
    usernames.push(jid.local)
  }
  try {
    if (payload.name === 'block') {
      // §3.3: a block with no item is bad-request.
      if (usernames.length === 0) return [stanzaError(iq, 'modify', 'bad-request')]
      for (const name of usernames) await ctx.rooms.block(user, name)
    } else {
      // §3.4: an unblock with no item unblocks everyone.
      if (usernames.length === 0) usernames.push(...(await ctx.rooms.blocks(user)).map(u => u.username))
      for (const name of usernames) await ctx.rooms.unblock(user, name)
    }
  } catch (err) {
    return [errorStanzaFor(iq, err)]
  }
  const push = el(payload.name, { xmlns: NS.blocking }, ...(items.length === 0 ? [] : usernames.map(name => el('item', { jid: `${name}@${domain}` }))))
  return [iqResult(iq), pushIq(state, push)]
}
