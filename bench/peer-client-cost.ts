/**
 * What the peer benchmark's load client (../shared/peer-bench) spends on one
 * poll answer of this product against one of Nchan raw, carrying the same K
 * messages: the client's own parsing, as its adapters do it, on this
 * product's bytes (made by the server's own event and answer serializers).
 * At N = 5,000 that client's one thread is what runs out first, so this cost
 * per answer, times N, is part of every delivery's latency in that run.
 *
 *   npx tsx bench/peer-client-cost.ts [--messages K] [--rounds R]
 */
import { parseArgs } from 'node:util'
import { eventJson } from '../src/events/event.js'
import { answerBody } from '../src/poll/answers.js'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '70' }, rounds: { type: 'string', default: '3' } } })
const K = Number(values.messages)
const payload = 'x'.repeat(48)
// The peer benchmark's message: {i, t, p} with a 64-byte body in all.
const texts = Array.from({ length: K }, (_, i) => JSON.stringify({ i, t: 1_796_000_000_000 + i, p: payload }))
const user = { id: '1', username: 'bench', displayName: 'bench' }
const events = texts.map((text, i) => eventJson({ id: 1000 + i, type: 'message', roomId: 1, user, createdAt: Date.now(), payload: { text, clientId: null } }))
const ours = answerBody({ events, cursor: 1000 + K, hasMore: false }).toString()
const nchan = texts.join('\n') + '\n'

// The two adapters' response handlers, then run.mjs's JSON.parse of each message.
const readOurs = (body: string): unknown[] => (JSON.parse(body) as { events: Array<{ type: string, text: string }> }).events
  .filter(e => e.type === 'message').map(e => e.text).map(t => JSON.parse(t) as unknown)
const readNchan = (body: string): unknown[] => body.split('\n').filter(Boolean).map(t => JSON.parse(t) as unknown)

function perAnswer (read: (body: string) => unknown[], body: string): number {
  const n = 20_000
  let count = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) count += read(body).length
  if (count !== n * K) throw new Error(`read ${count} messages, expected ${n * K}`)
  return Number(process.hrtime.bigint() - start) / 1e3 / n
}

for (let round = 1; round <= Number(values.rounds); round++) {
  const a = perAnswer(readOurs, ours)
  const b = perAnswer(readNchan, nchan)
  console.log(`round ${round}: one answer of ${K} messages: this product ${ours.length} B, ${a.toFixed(1)} µs; ` +
    `Nchan raw ${nchan.length} B, ${b.toFixed(1)} µs; ratio ${(a / b).toFixed(2)}`)
}
