import type { FastifyReply } from 'fastify'
import type { ServerResponse } from 'node:http'
import { writePrebuiltJson } from '../http/prebuilt-json.js'
import { answerBody } from './answers.js'
import { ClientDeparture, type PollAnswer, type PollSink } from './waiters.js'

/** The headers of every poll answer but its type, set in one call. */
const answerHeaders = {
  'cache-control': 'no-store',
  // Tells nginx not to buffer the answer (a held poll is not a slow download).
  'x-accel-buffering': 'no'
}

const pollOf = Symbol('poll reply')
type PollResponse = ServerResponse & { [pollOf]?: PollReply }

/** One listener function for every poll: the poll hangs on its response, not in a closure. */
function onResponseClose (this: PollResponse): void {
  if (!this.writableFinished) this[pollOf]?.leave()
}

/**
 * One poll's reply: where the engine delivers its one outcome, and how it
 * learns that the client left (its departure). The answer goes out as soon as
 * it is known, with no promise or suspended handler kept while the poll is
 * held: at 10,000 held polls each of those is memory.
 */
export class PollReply extends ClientDeparture implements PollSink {
  private done = false

  constructor (private readonly reply: FastifyReply) {
    super()
    const res: PollResponse = reply.raw
    res[pollOf] = this
    res.on('close', onResponseClose)
    // The client may have gone while the auth hook awaited: 'close' has fired
    // already and would never reach the listener, leaving the poll held.
    if (reply.request.raw.socket.destroyed) this.leave()
  }

  deliver (answer: PollAnswer): void {
    // An answer several polls share is encoded once.
    if (this.end()) writePrebuiltJson(this.reply.headers(answerHeaders), answerBody(answer))
  }

  /** Through the one error handler, like any route's error. */
  fail (err: unknown): void {
    if (this.end()) this.reply.send(err)
  }

  private end (): boolean {
    if (this.done) return false
    this.done = true
    const res: PollResponse = this.reply.raw
    res.removeListener('close', onResponseClose)
    res[pollOf] = undefined
    return true
  }
}
