import { randomBytes } from 'node:crypto'
import { ClientDeparture } from '../poll/engine.js'
import { addressKey } from '../http/address.js'
import type { AuthUser } from '../auth/service.js'
import type { Arrival, XmppServices, XmppState } from './context.js'
import { blocking } from './blocking.js'
import { loadDirects } from './direct.js'
import { discoInfo, discoItems } from './disco.js'
import { parseJid } from './jid.js'
import { mucAdmin } from './muc-admin.js'
import { NS } from './namespaces.js'
import { firstChild, iqResult, stanzaError } from './stanzas.js'
import { el, type Element } from './xml.js'

/**
 * Resource binding (RFC 6120 §7). The stream's place in our event stream is
 * taken here, as a poll without a cursor takes it: from then on the held
 * requests read what follows.
 */
async function bind (ctx: XmppServices, state: XmppState, iq: Element, arrival: Arrival): Promise<Element> {
  if (state.stage !== 'bind') return stanzaError(iq, 'cancel', 'not-allowed')
  const wanted = firstChild(iq)?.getChildText('resource')?.trim() ?? ''
  state.resource = /^[\p{L}\p{N}._-]{1,64}$/u.test(wanted) ? `${wanted}.${randomBytes(3).toString('hex')}` : randomBytes(6).toString('hex')
  const user = state.user as AuthUser
  const start = await ctx.engine.poll({ userId: user.id, address: addressKey(arrival.ip), cursor: null, limit: 1, timeoutMs: 0, departure: new ClientDeparture() })
  state.cursor = start.cursor
  await loadDirects(ctx, state)
  state.stage = 'ready'
  return iqResult(iq, el('bind', { xmlns: NS.bind }, el('jid', {}, state.fullJid)))
}

/** The roster: the users one shares a direct room with (read-only). */
async function roster (ctx: XmppServices, state: XmppState, iq: Element): Promise<Element> {
  if (iq.attrs.type !== 'get') return stanzaError(iq, 'cancel', 'not-allowed')
  const rooms = await ctx.rooms.listMine(state.user as AuthUser)
  const items = rooms.filter(r => r.kind === 'direct' && r.peer !== null).map(r =>
    el('item', { jid: `${r.peer?.username ?? ''}@${state.domains.domain}`, name: r.peer?.displayName, subscription: 'both' }))
  return iqResult(iq, el('query', { xmlns: NS.roster }, ...items))
}

/** An `<iq/>` from a bound stream (or the bind itself). Unknown payloads get `service-unavailable`, as RFC 6120 §8.4 asks. */
export async function handleIq (ctx: XmppServices, state: XmppState, iq: Element, arrival: Arrival): Promise<Element[]> {
  const payload = firstChild(iq)
  if (iq.attrs.type === 'result' || iq.attrs.type === 'error') return []
  if (payload === undefined || (iq.attrs.type !== 'get' && iq.attrs.type !== 'set')) return [stanzaError(iq, 'modify', 'bad-request')]
  const ns = payload.attrs.xmlns
  if (payload.name === 'bind' && ns === NS.bind) return [await bind(ctx, state, iq, arrival)]
  if (state.stage !== 'ready') return [stanzaError(iq, 'cancel', 'not-allowed')]
  const to = parseJid(iq.attrs.to)
  if (payload.name === 'session' && ns === NS.session) return [iqResult(iq)]
  if (payload.name === 'ping' && ns === NS.ping) return [iqResult(iq)]
  if (payload.name === 'query' && ns === NS.roster) return [await roster(ctx, state, iq)]
  if (payload.name === 'query' && ns === NS.discoInfo) return [await discoInfo(ctx, state, iq, to)]
  if (payload.name === 'query' && ns === NS.discoItems) return [await discoItems(ctx, state, iq, to)]
  if (ns === NS.blocking) return await blocking(ctx, state, iq, payload)
  if (payload.name === 'query' && ns === NS.mucAdmin) return [await mucAdmin(ctx, state, iq, to, payload)]
  return [stanzaError(iq, 'cancel', 'service-unavailable')]
}
