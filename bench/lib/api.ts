import { Pool } from 'undici'

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  body: any
}

export interface CallOptions {
  token?: string
  cookie?: string
  json?: unknown
  signal?: AbortSignal
  headers?: Record<string, string>
}

/**
 * The server answered something API.md does not allow. The message carries
 * the exact request and response, because that is what gets reported to the
 * server's author; the bench never works around it.
 */
export class ContractError extends Error {
  override name = 'ContractError'
}

export function describeExchange (method: string, path: string, json: unknown, reply: Reply): string {
  const sent = json === undefined ? '' : ` ${JSON.stringify(json)}`
  return `${method} ${path}${sent} → ${reply.status} ${reply.text.slice(0, 600)}`
}

/** A thin JSON client over one undici Pool: no cookies jar, no redirects, nothing hidden. */
export class Api {
  readonly origin: string
  readonly pool: Pool

  constructor (origin: string, connections = 16) {
    this.origin = origin
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      headersTimeout: 90_000,
      bodyTimeout: 90_000,
      keepAliveTimeout: 60_000
    })
  }

  async call (method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
    if (opts.cookie !== undefined) headers.cookie = opts.cookie
    let body: string | undefined
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.json)
    }
    const res = await this.pool.request({ method: method as 'GET', path, headers, body, signal: opts.signal })
    const text = await res.body.text()
    let parsed: unknown = null
    if (text !== '') {
      try { parsed = JSON.parse(text) } catch { parsed = null }
    }
    return { status: res.statusCode, headers: res.headers, text, body: parsed }
  }

  /** Calls and insists on one of the statuses the contract promises. */
  async expect (status: number | number[], method: string, path: string, opts: CallOptions = {}): Promise<any> {
    const reply = await this.call(method, path, opts)
    const ok = Array.isArray(status) ? status.includes(reply.status) : reply.status === status
    if (!ok) throw new ContractError(`expected ${String(status)}: ${describeExchange(method, path, opts.json, reply)}`)
    return reply.body
  }

  async close (): Promise<void> {
    await this.pool.destroy()
  }
}

export interface BenchUser {
  id: string
  username: string
  token: string
}

/**
 * Registers a user and swaps the session cookie for a bearer token, so the
 * load itself carries no cookies (and needs no Origin header).
 */
export async function createUser (api: Api, username: string, password = 'bench-password-1'): Promise<BenchUser> {
  const reply = await api.call('POST', '/api/register', { json: { username, password } })
  if (reply.status !== 201) throw new ContractError(`register: ${describeExchange('POST', '/api/register', { username, password }, reply)}`)
  const raw = reply.headers['set-cookie']
  const cookies = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(c => c.split(';')[0] ?? '')
  if (cookies.length === 0) throw new ContractError(`register set no cookie: ${describeExchange('POST', '/api/register', { username }, reply)}`)
  const cookie = cookies.join('; ')
  const tok = await api.expect(201, 'POST', '/api/tokens', { cookie, json: { name: 'bench', password } })
  const user = reply.body?.user
  if (typeof tok?.token !== 'string' || typeof user?.id !== 'string') {
    throw new ContractError(`register/tokens answered an unexpected shape: user=${JSON.stringify(user)} token=${JSON.stringify(tok)}`)
  }
  return { id: user.id, username: user.username, token: tok.token }
}

/** Runs `fn` over `items` with at most `limit` in flight (registration hashes passwords: keep it gentle). */
export async function mapLimit<T, R> (items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
