import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { checkedLookup, literalHostBlocked } from './address-check.js'

/** What one POST to a receiver came to. */
export type DeliveryOutcome =
  | { ok: true, status: number, body: string }
  | { ok: false, error: string }

export interface DeliveryRequest {
  url: string
  body: string
  headers: Record<string, string>
  allowPrivate: boolean
  /** Aborts the request (shutdown). */
  signal: AbortSignal
}

/** A 2xx must arrive within this; the answer read is capped at this many bytes. */
export const deliveryTimeoutMs = 10000
export const maxAnswerBytes = 64 * 1024

/**
 * POSTs one delivery. Redirects are not followed (a 3xx is a failure), every
 * address connected to is checked again (DNS may have changed since the URL was
 * saved), the whole exchange must finish within 10 s, and at most 64 KiB of the
 * answer is read.
 */
export async function deliver (req: DeliveryRequest): Promise<DeliveryOutcome> {
  const url = new URL(req.url)
  if (literalHostBlocked(url, req.allowPrivate)) return { ok: false, error: 'the URL names a loopback, private, link-local or multicast address' }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise<DeliveryOutcome>(resolve => {
    let settled = false
    const finish = (outcome: DeliveryOutcome): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.signal.removeEventListener('abort', onAbort)
      resolve(outcome)
    }
    const outgoing = send(url, {
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      lookup: checkedLookup(req.allowPrivate),
      agent: false
    }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0
      if (status < 200 || status > 299) {
        res.resume()
        finish({ ok: false, error: `answered ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}` })
        outgoing.destroy()
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size <= maxAnswerBytes) chunks.push(chunk)
        else { finish({ ok: true, status, body: '' }); outgoing.destroy() }
      })
      res.on('end', () => finish({ ok: true, status, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', (err) => finish({ ok: false, error: err.message }))
    })
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no answer within ${deliveryTimeoutMs / 1000} s` })
      outgoing.destroy()
    }, deliveryTimeoutMs)
    const onAbort = (): void => { finish({ ok: false, error: 'aborted: this server is shutting down' }); outgoing.destroy() }
    req.signal.addEventListener('abort', onAbort)
    outgoing.on('error', (err: Error & { code?: string }) => finish({ ok: false, error: err.message }))
    outgoing.end(req.body)
  })
}
