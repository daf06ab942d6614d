import { addressKey } from '../http/address.js'
import type { PollEngine } from './engine.js'
import type { Presence } from './presence.js'
import type { ClientDeparture, PollSink } from './waiters.js'

/** A cursor this server gives out: the id of an event (also what the fast lane takes). */
export const cursorPattern = /^[0-9]{1,15}$/

/** What a poll asked for, read from its query by the route or the fast lane. */
export interface PollQuery {
  cursor: number | null
  /** Seconds; undefined: the server's POLL_TIMEOUT. */
  timeout: number | undefined
  limit: number | undefined
  away: boolean
}

export interface PollStartDeps {
  engine: PollEngine
  presence: Presence
  pollTimeout: number
  pollMaxTimeout: number
}

/**
 * What both ways into the poll (Fastify's route and the fast lane) do once
 * the request is read: note the caller as present, then hand the poll to the
 * engine, which answers it into `reply` now or when it is released.
 */
export function startPoll (deps: PollStartDeps, userId: number, ip: string, query: PollQuery, reply: ClientDeparture & PollSink): void {
  deps.presence.touch(userId, query.away)
  deps.engine.start({
    userId,
    address: addressKey(ip),
    cursor: query.cursor,
    limit: query.limit ?? 100,
    timeoutMs: Math.min(query.timeout ?? deps.pollTimeout, deps.pollMaxTimeout) * 1000,
    // The one exit for a client that goes away mid-hold: the engine forgets the poll at once.
    departure: reply
  }, reply)
}
