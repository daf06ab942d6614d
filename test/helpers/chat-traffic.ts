/*
 * Chat traffic for the reliability tests: senders and pollers that behave like
 * the web client (on a network error or a 503 they try again, on the other
 * node), and the one check that matters afterwards: every message the server
 * accepted reached every member poller exactly once, in order.
 */

export interface Answer {
  status: number
  retryAfter: string | null
  body: any
}

export interface CallInit {
  method?: string
  token?: string
  cookie?: string
  body?: unknown
  signal?: AbortSignal
}

/** One JSON request; network failures throw (the caller decides what they mean). */
export async function call (url: string, path: string, init: CallInit = {}): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`
  if (init.cookie !== undefined) headers.cookie = init.cookie
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal })
  })
  const text = await res.text()
  let body: unknown = null
  try { body = text === '' ? null : JSON.parse(text) } catch { body = text }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body }
}

export const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/**
 * Registers `count` users (user0, user1…) with a bearer token each, all members
 * of one room. Registrations run in parallel, spread over the nodes given
 * (password hashing is the slow part, and each node hashes on its own).
 */
export async function setupRoom (urls: string | string[], count: number, room = 'load'): Promise<string[]> {
  const nodes = Array.isArray(urls) ? urls : [urls]
  const tokens = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const url = nodes[i % nodes.length] as string
    const res = await fetch(`${url}/api/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `user${i}`, password: 'password-for-tests' }) })
    if (res.status !== 201) throw new Error(`register user${i}: ${res.status} ${await res.text()}`)
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string
    const token = await call(url, '/api/tokens', { method: 'POST', cookie, body: { name: 'test', password: 'password-for-tests' } })
    if (token.status !== 201) throw new Error(`token user${i}: ${token.status}`)
    return token.body.token as string
  }))
  const created = await call(nodes[0] as string, '/api/rooms', { method: 'POST', token: tokens[0], body: { name: room } })
  if (created.status !== 201) throw new Error(`room: ${created.status}`)
  await Promise.all(tokens.slice(1).map(async (token, i) => {
    const joined = await call(nodes[i % nodes.length] as string, `/api/rooms/${room}/join`, { method: 'POST', token })
    if (joined.status !== 200) throw new Error(`join: ${joined.status}`)
  }))
  return tokens
}

export interface TrafficOptions {
  /** Base URLs of the nodes; a client moves to the next one on errors. */
  urls: string[]
  senderTokens: string[]
  pollerTokens: string[]
  room?: string
  /** Poll `timeout` in seconds. */
  pollTimeout?: number
  /** Pause between a sender's messages, in ms. */
  sendPauseMs?: number
  /** How long a client waits before trying again after an error, in ms (Retry-After is checked, not obeyed, to keep tests short). */
  retryPauseMs?: number
  /** Put before each message text (and clientId), so one set of users can run several traffic phases. */
  tag?: string
}

/** One poll request as the test saw it, for checks about held polls during faults. */
export interface PollRecord {
  node: number
  startedAt: number
  endedAt: number
  outcome: number | 'network'
}

/**
 * Senders send numbered messages with a clientId and retry each one until the
 * server accepts it (so an unacknowledged write that did commit is found again,
 * not doubled); pollers follow their cursors. Any answer other than success,
 * 503 with Retry-After, or a network error (a node killed) is a problem.
 */
export class Traffic {
  readonly accepted: string[][]
  readonly received: string[][]
  readonly problems: string[] = []
  readonly statuses = new Map<string, number>()
  readonly polls: PollRecord[] = []
  /** Milliseconds from the start of a message's accepted send request to each poller receiving it. */
  readonly deliveryMs: number[] = []
  private readonly sentAt = new Map<string, number>()
  private sending = false
  private polling = false
  private senders: Array<Promise<void>> = []
  private pollers: Array<Promise<void>> = []
  private readonly room: string
  private readonly pollTimeout: number
  private readonly retryPauseMs: number
  private readonly tag: string

  constructor (private readonly options: TrafficOptions) {
    this.accepted = options.senderTokens.map(() => [])
    this.received = options.pollerTokens.map(() => [])
    this.room = options.room ?? 'load'
    this.pollTimeout = options.pollTimeout ?? 2
    this.retryPauseMs = options.retryPauseMs ?? 200
    this.tag = options.tag ?? ''
  }

  get acceptedCount (): number { return this.accepted.reduce((n, a) => n + a.length, 0) }

  private count (what: string): void { this.statuses.set(what, (this.statuses.get(what) ?? 0) + 1) }

  private judge (what: string, res: Answer, ok: number[]): 'ok' | 'retry' {
    this.count(`${what} ${res.status}`)
    if (ok.includes(res.status)) return 'ok'
    if (res.status === 503) {
      if (res.retryAfter === null || !/^\d+$/.test(res.retryAfter)) this.problems.push(`${what} 503 without Retry-After: ${JSON.stringify(res.body)}`)
      return 'retry'
    }
    this.problems.push(`${what} ${res.status}: ${JSON.stringify(res.body)}`)
    return 'retry'
  }

  /** Starts the pollers; each first asks for the head on its own node. */
  async startPollers (): Promise<void> {
    this.polling = true
    const { urls } = this.options
    const cursors = await Promise.all(this.options.pollerTokens.map(async (token, p) => {
      const res = await call(urls[p % urls.length] as string, '/api/poll', { token })
      if (res.status !== 200) throw new Error(`first poll: ${res.status}`)
      return res.body.cursor as string
    }))
    this.pollers = this.options.pollerTokens.map(async (token, p) => {
      let cursor = cursors[p] as string
      let node = p % urls.length
      while (this.polling) {
        const record: PollRecord = { node, startedAt: Date.now(), endedAt: 0, outcome: 'network' }
        this.polls.push(record)
        let res: Answer
        try {
          res = await call(urls[node] as string, `/api/poll?cursor=${cursor}&timeout=${this.pollTimeout}`, { token })
        } catch {
          record.endedAt = Date.now()
          this.count('poll network')
          node = (node + 1) % urls.length
          await sleep(this.retryPauseMs)
          continue
        }
        record.endedAt = Date.now()
        record.outcome = res.status
        if (this.judge('poll', res, [200]) === 'retry') {
          node = (node + 1) % urls.length
          await sleep(this.retryPauseMs)
          continue
        }
        const now = Date.now()
        for (const e of res.body.events) {
          if (e.type !== 'message') continue
          this.received[p]?.push(e.text as string)
          const sent = this.sentAt.get(e.text as string)
          if (sent !== undefined) this.deliveryMs.push(now - sent)
        }
        cursor = res.body.cursor
      }
    })
  }

  /** Starts the senders; each keeps sending until stopSending(). */
  startSenders (): void {
    this.sending = true
    const { urls } = this.options
    this.senders = this.options.senderTokens.map(async (token, s) => {
      let node = s % urls.length
      for (let i = 0; this.sending; i++) {
        const text = `${this.tag}s${s}-${i}`
        // Until accepted: a message given up on might still have been stored.
        for (;;) {
          let res: Answer
          this.sentAt.set(text, Date.now())
          try {
            res = await call(urls[node] as string, `/api/rooms/${this.room}/messages`, { method: 'POST', token, body: { text, clientId: text } })
          } catch {
            this.count('send network')
            node = (node + 1) % urls.length
            await sleep(this.retryPauseMs)
            continue
          }
          if (this.judge('send', res, [200, 201]) === 'ok') break
          node = (node + 1) % urls.length
          await sleep(this.retryPauseMs)
        }
        this.accepted[s]?.push(text)
        if (this.options.sendPauseMs !== undefined) await sleep(this.options.sendPauseMs)
      }
    })
  }

  /** Stops the senders once each has its current message accepted. */
  async stopSending (): Promise<void> {
    this.sending = false
    await Promise.all(this.senders)
  }

  /** Waits until every poller has as many messages as were accepted (or the deadline), then stops them. */
  async drain (timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const expected = this.acceptedCount
    while (Date.now() < deadline && this.received.some(r => r.length < expected)) await sleep(100)
    this.polling = false
    await Promise.all(this.pollers)
  }

  /** Every accepted message reached every poller exactly once, each sender's in order, one order for all. */
  verify (t: { equal: (a: unknown, b: unknown, m: string) => void, same: (a: unknown, b: unknown, m: string) => void, ok: (a: unknown, m: string) => void }): void {
    const accepted = new Set(this.accepted.flat())
    t.equal(accepted.size, this.acceptedCount, 'each message was accepted once')
    t.ok(this.acceptedCount > 0, 'messages were accepted')
    this.received.forEach((got, p) => {
      const missing = [...accepted].filter(m => !got.includes(m))
      const extra = got.filter(m => !accepted.has(m))
      t.same(missing, [], `poller ${p}: no accepted message missing`)
      t.same(extra, [], `poller ${p}: nothing that was not accepted`)
      t.equal(new Set(got).size, got.length, `poller ${p}: nothing twice`)
      const inOrder = this.accepted.every((mine, s) => {
        const seen = got.filter(m => m.startsWith(`${this.tag}s${s}-`))
        return seen.join() === mine.filter(m => seen.includes(m)).join()
      })
      t.ok(inOrder, `poller ${p}: each sender's messages in order`)
    })
    t.ok(this.received.every(r => r.join() === this.received[0]?.join()), 'one order for every poller')
  }
}
