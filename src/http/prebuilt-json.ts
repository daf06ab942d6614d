import type { FastifyReply } from 'fastify'

/**
 * Sends JSON text as it is. Events are serialized once, when they are written,
 * and the hottest answers (poll, send, edit) are assembled from that text
 * rather than parsed and serialized again for every reader. Fastify sends a
 * string untouched, so on these routes the response schema is documentation:
 * test/http/response-schemas.test.ts checks real answers against it.
 */
export async function sendPrebuiltJson (reply: FastifyReply, json: string | Buffer): Promise<FastifyReply> {
  return await reply.type('application/json; charset=utf-8').send(json)
}

/** The same without waiting for the answer to finish, for answers sent from outside a handler. */
export function writePrebuiltJson (reply: FastifyReply, json: string | Buffer): void {
  reply.type('application/json; charset=utf-8').send(json)
}
