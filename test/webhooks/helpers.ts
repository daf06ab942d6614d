import type { FastifyInstance } from 'fastify'
import { as, type Session } from '../helper.js'

export const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

export { send } from '../helper.js'

/** Probes until it gives something (deliveries happen in the background). */
export async function until<T> (what: string, probe: () => Promise<T | undefined>, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** The room's (first) outgoing webhook as its list shows it. */
export async function firstOutgoing (app: FastifyInstance, who: Session, room: string): Promise<{ id: string, failing: boolean, lastError: string | null, lastDeliveredEventId: string }> {
  return (await as(app, who, 'GET', `/api/rooms/${room}/outgoing-webhooks`)).json().webhooks[0]
}
