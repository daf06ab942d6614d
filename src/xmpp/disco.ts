import type { AuthUser } from '../auth/service.js'
import { AppError } from '../http/errors.js'
import type { XmppServices, XmppState } from './context.js'
import { errorStanzaFor } from './errors.js'
import type { Jid } from './jid.js'
import { NS } from './namespaces.js'
import { iqResult, stanzaError } from './stanzas.js'
import { el, type Element } from './xml.js'

const serverFeatures = [NS.discoInfo, NS.discoItems, NS.roster, NS.ping, NS.sid, NS.correct, NS.retract, NS.blocking]
const roomFeatures = [NS.muc, NS.discoInfo, 'muc_persistent', 'muc_nonanonymous', NS.sid, NS.correct, NS.retract]

const features = (list: string[]): Element[] => list.map(v => el('feature', { var: v }))

/** Service discovery (XEP-0030): what the server, the MUC service and each room support. */
export async function discoInfo (ctx: XmppServices, state: XmppState, iq: Element, to: Jid | null): Promise<Element> {
  const query = (...children: Element[]): Element => iqResult(iq, el('query', { xmlns: NS.discoInfo }, ...children))
  if (to === null || (to.domain === state.domains.domain && to.local === null)) {
    return query(el('identity', { category: 'server', type: 'im', name: 'chat' }), ...features(serverFeatures))
  }
  if (to.domain === state.domains.muc && to.local === null) {
    return query(el('identity', { category: 'conference', type: 'text', name: 'Channels' }), ...features([NS.muc, NS.discoInfo, NS.discoItems]))
  }
  if (to.domain === state.domains.muc && to.local !== null) {
    const kind = await roomKind(ctx, state.user as AuthUser, to.local)
    if (typeof kind !== 'string') return errorStanzaFor(iq, kind)
    return query(el('identity', { category: 'conference', type: 'text', name: to.local }), ...features([...roomFeatures, kind]))
  }
  if (to.domain === state.domains.domain) return query(el('identity', { category: 'account', type: 'registered' }))
  return stanzaError(iq, 'cancel', 'item-not-found')
}

/**
 * Whether a channel exists for this user, by the HTTP API's rules: a member
 * sees it, anyone sees a public one, a private one is not found by others.
 */
async function roomKind (ctx: XmppServices, user: AuthUser, name: string): Promise<'muc_public' | 'muc_hidden' | unknown> {
  try {
    await ctx.rooms.members(user, name)
    const mine = (await ctx.rooms.listMine(user)).find(r => r.name === name)
    return mine?.visibility === 'private' ? 'muc_hidden' : 'muc_public'
  } catch (err) {
    if (err instanceof AppError && (err.code === 'not_member' || err.code === 'banned')) return 'muc_public'
    return err
  }
}

/** The server lists its MUC service; the MUC service lists the public channels. */
export async function discoItems (ctx: XmppServices, state: XmppState, iq: Element, to: Jid | null): Promise<Element> {
  const query = (...children: Element[]): Element => iqResult(iq, el('query', { xmlns: NS.discoItems }, ...children))
  if (to === null || (to.domain === state.domains.domain && to.local === null)) {
    return query(el('item', { jid: state.domains.muc, name: 'Channels' }))
  }
  if (to.domain === state.domains.muc && to.local === null) {
    const { rooms } = await ctx.rooms.listPublic(state.user as AuthUser, { q: null, after: null, limit: 200 })
    return query(...rooms.map(r => el('item', { jid: `${r.name ?? ''}@${state.domains.muc}`, name: r.name ?? '' })))
  }
  return query()
}
