import { AppError } from '../http/errors.js'
import type { Arrival, XmppServices, XmppState } from './context.js'
import { NS } from './namespaces.js'
import { el, type Element } from './xml.js'

const failure = (condition: string, text?: string): Element =>
  el('failure', { xmlns: NS.sasl }, el(condition), text === undefined ? undefined : el('text', {}, text))

/** `[authzid] NUL authcid NUL password` (RFC 4616), or null when it is not that. */
export function decodePlain (payload: string): { authzid: string, username: string, password: string } | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) return null
  const parts = Buffer.from(payload, 'base64').toString('utf8').split('\u0000')
  if (parts.length !== 3) return null
  const [authzid, username, password] = parts as [string, string, string]
  if (username === '' || password === '') return null
  return { authzid, username, password }
}

/**
 * SASL PLAIN (RFC 6120 §6) against our accounts, through the same sign-in as
 * `POST /api/login`, with its rate limits: the stream then holds a real
 * session cookie, so logout and revocation end it like any other session.
 */
export async function authenticate (ctx: XmppServices, state: XmppState, auth: Element, arrival: Arrival): Promise<Element> {
  if (state.stage !== 'sasl') return failure('aborted')
  if (auth.attrs.mechanism !== 'PLAIN') return failure('invalid-mechanism')
  const creds = decodePlain(auth.getText().trim())
  if (creds === null) return failure('malformed-request')
  const username = creds.username.toLowerCase()
  if (creds.authzid !== '' && creds.authzid.toLowerCase() !== `${username}@${ctx.domains.domain}` && creds.authzid.toLowerCase() !== username) {
    return failure('invalid-authzid')
  }
  try {
    await ctx.limits.beforeLogin(arrival.ip, username, arrival.reply)
    const { cookie } = await ctx.auth.login(username, creds.password)
    const user = await ctx.auth.fromCookie(cookie, false)
    if (user === null) return failure('not-authorized')
    await ctx.limits.loginSucceeded(arrival.ip, username)
    state.user = user
    state.cookie = cookie
    state.stage = 'restart'
    return el('success', { xmlns: NS.sasl })
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    if (err.code === 'rate_limited') return failure('temporary-auth-failure', err.message)
    await ctx.limits.loginFailed(arrival.ip, username)
    return failure('not-authorized')
  }
}
