import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { once } from 'node:events'

/** One POST a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders
  body: string
  at: number
  /** The parsed body: `{event, room}`. */
  json: { event: { id: string, type: string, text?: string, user: { id: string, username: string, displayName: string, bot?: true } }, room: { id: string, name: string | null } }
}

export interface Receiver {
  url: string
  received: Received[]
  /** Resolves once `n` requests have arrived (or rejects after `timeoutMs`). */
  waitFor: (n: number, timeoutMs?: number) => Promise<Received[]>
  close: () => Promise<void>
}

type Answer = { status: number, body?: string, delayMs?: number }

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A real HTTP server on loopback that records webhook deliveries and answers
 * each as `answer` says (by request number, from 0), for the worker to talk to.
 */
export async function startReceiver (t: Teardown, answer: (n: number, r: Received) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = []
  const waiters: Array<() => void> = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const r: Received = { headers: req.headers, body, at: Date.now(), json: JSON.parse(body) }
      const a = answer(received.length, r)
      received.push(r)
      for (const w of waiters.splice(0)) w()
      const reply = (): void => { res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body ?? '') }
      if (a.delayMs === undefined) reply()
      else setTimeout(reply, a.delayMs).unref()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  const close = async (): Promise<void> => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
  t.teardown(close)
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    close,
    waitFor: async (n, timeoutMs = 20000) => {
      const deadline = Date.now() + timeoutMs
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} deliveries, got ${received.length}`)
        await new Promise<void>(resolve => { waiters.push(resolve); setTimeout(resolve, 200).unref() })
      }
      return received.slice(0, n)
    }
  }
}
