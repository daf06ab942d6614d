import type { AuthUser } from '../auth/service.js'
import { AppError } from '../http/errors.js'
import type { XmppServices, XmppState } from './context.js'
import { errorStanzaFor } from './errors.js'
import { parseJid, type Jid } from './jid.js'
import { NS } from './namespaces.js'
import { iqResult, stanzaError } from './stanzas.js'
import { el, type Element } from './xml.js'

type Change = { action: 'kick' | 'ban', username: string }

/**
 * Which of our actions an `<item/>` of a muc#admin set asks for (XEP-0045
 * §8.2 kick: `role='none'` by nick; §9.1 ban: `affiliation='outcast'` by
 * JID, or nick), and whom it names: the nick is the username, the JID a user of ours.
 * Null for anything else (role and affiliation changes are not offered).
 */
function changeOf (state: XmppState, item: Element): Change | 'malformed' | null {
  if (item.attrs.role === 'none' && item.attrs.affiliation === undefined) {
    const nick = item.attrs.nick
    return nick === undefined || nick === '' ? 'malformed' : { action: 'kick', username: nick.toLowerCase() }
  }
  if (item.attrs.affiliation === 'outcast' && item.attrs.role === undefined) {
    // By JID as §9.1 has it; some clients name the occupant's nick instead, which is the username here.
    if (item.attrs.jid === undefined && item.attrs.nick !== undefined && item.attrs.nick !== '') return { action: 'ban', username: item.attrs.nick.toLowerCase() }
    const jid = parseJid(item.attrs.jid)
    if (jid === null || jid.local === null || jid.resource !== null || jid.domain !== state.domains.domain) return 'malformed'
    return { action: 'ban', username: jid.local }
  }
  return null
}

/** Whether the user acts as a moderator here (administrators rank as owners): XEP-0045 says `forbidden` to anyone else. */
async function moderates (ctx: XmppServices, user: AuthUser, room: string): Promise<boolean> {
  if (user.isAdmin) return true
  const me = (await ctx.rooms.members(user, room)).find(m => Number(m.id) === user.id)
  return me !== undefined && me.role !== 'member'
}

/**
 * `<iq type='set'><query xmlns='muc#admin'>` to a room: kicks and bans through
 * our moderation service, with its rules (moderators and owners; one never
 * removes an equal or higher rank). Every item is checked before any is
 * applied. Our kick/ban events then reach every occupant, with status 307/301.
 */
export async function mucAdmin (ctx: XmppServices, state: XmppState, iq: Element, to: Jid | null, query: Element): Promise<Element> {
  const user = state.user as AuthUser
  if (to === null || to.domain !== state.domains.muc || to.local === null || to.resource !== null) return stanzaError(iq, 'cancel', 'item-not-found')
  if (iq.attrs.type === 'get') return await affiliationList(ctx, state, iq, to.local, query)
  const changes: Change[] = []
  for (const item of query.getChildren('item')) {
    const change = changeOf(state, item)
    if (change === 'malformed') return stanzaError(iq, 'modify', 'bad-request')
    if (change === null) return stanzaError(iq, 'cancel', 'feature-not-implemented', 'Only kicks (role none) and bans (affiliation outcast) are offered.')
    changes.push(change)
  }
  if (changes.length === 0) return stanzaError(iq, 'modify', 'bad-request')
  try {
    if (!await moderates(ctx, user, to.local)) return stanzaError(iq, 'auth', 'forbidden')
    for (const c of changes) {
      if (c.action === 'kick') await ctx.rooms.moderation.kick(user, to.local, c.username)
      else await ctx.rooms.moderation.ban(user, to.local, c.username)
    }
    return iqResult(iq)
  } catch (err) {
    // The actor moderates (checked above): a refusal now is about the target's rank (§8.2: not-allowed).
    if (err instanceof AppError && err.code === 'forbidden') return stanzaError(iq, 'cancel', 'not-allowed', err.message)
    return errorStanzaFor(iq, err)
  }
}

/** A moderator's list of the banned (§9.2, `affiliation='outcast'`); other lists are not offered. */
async function affiliationList (ctx: XmppServices, state: XmppState, iq: Element, room: string, query: Element): Promise<Element> {
  const wanted = query.getChild('item')?.attrs.affiliation
  if (wanted !== 'outcast') return stanzaError(iq, 'cancel', 'feature-not-implemented')
  try {
    if (!await moderates(ctx, state.user as AuthUser, room)) return stanzaError(iq, 'auth', 'forbidden')
    const bans = await ctx.rooms.moderation.bans(state.user as AuthUser, room)
    return iqResult(iq, el('query', { xmlns: NS.mucAdmin },
      ...bans.map(b => el('item', { affiliation: 'outcast', jid: `${b.user.username}@${state.domains.domain}` }))))
  } catch (err) {
    return errorStanzaFor(iq, err)
  }
}
