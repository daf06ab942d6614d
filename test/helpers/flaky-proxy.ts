import { createServer, type Server } from 'node:http'
import { listenLoopback } from './loopback.js'

interface Teardown { teardown (fn: () => unknown): void }

/**
 * A loopback HTTP proxy in front of a BOSH endpoint that loses one answer: the
 * first request whose body contains `marker` is passed on and answered by the
 * server, but the client gets a 502 instead, as when a proxy or a network drops a
 * response. A BOSH client then sends the same request (same `rid`) again
 * (XEP-0124 §14), and the server must answer it from its memory, not act twice.
 */
export async function startFlakyProxy (t: Teardown, target: string, marker: string): Promise<{ url: string, dropped: () => number, markedRids: string[] }> {
  let dropped = 0
  const markedRids: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const marked = body.toString('utf8').includes(marker)
      if (marked) markedRids.push(/\srid=['"](\d+)['"]/.exec(body.toString('utf8'))?.[1] ?? '?')
      const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'text/xml; charset=utf-8' }
      fetch(target, { method: req.method ?? 'POST', headers, ...(req.method === 'POST' ? { body } : {}) }).then(async answer => {
        const text = await answer.text()
        if (dropped === 0 && marked) {
          dropped++
          res.writeHead(502, { 'content-type': 'text/plain' }).end('answer lost on purpose')
          return
        }
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' }).end(text)
      }).catch(() => { res.writeHead(502).end() })
    })
  })
  const port = await listenLoopback(t, server)
  return { url: `http://127.0.0.1:${port}/http-bind`, dropped: () => dropped, markedRids }
}
