/**
 * The soak's churning room. Users join, write, leave and join again while
 * everyone polls, and the rule is checked against the database afterwards: a
 * poller receives an event of the room exactly when its user was a member at
 * that event's place in the stream (from their `member.joined` up to and
 * including their own `member.left`), never before, never after.
 *
 * The expected sets are computed from the events table, not from what the
 * bench thinks it did, so a join that raced a send is judged by the order the
 * database gave them.
 */
import mysql from 'mysql2/promise'
import type { Api, BenchUser } from './api.js'
import { sleep } from './api.js'

export interface DriftEvent { id: bigint, type: string, userId: number }

/**
 * Per user: the ids of the room's events that user must receive, among those
 * after `from`. Events for one reader only (read markers) are left out by the
 * caller's query.
 */
export function expectedFor (events: DriftEvent[], userId: number, from: bigint): Set<string> {
  const expected = new Set<string>()
  let member = false
  for (const e of [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const own = e.userId === userId
    if (own && e.type === 'member.joined') member = true
    if (member && e.id > from) expected.add(String(e.id))
    if (own && e.type === 'member.left') member = false
  }
  return expected
}

export async function readDriftEvents (databaseUrl: string, roomId: string): Promise<DriftEvent[]> {
  const db = await mysql.createConnection({ uri: databaseUrl, supportBigNumbers: true, bigNumberStrings: true })
  try {
    const [rows] = await db.query('SELECT id, type, user_id FROM events WHERE room_id = ? AND target_user_id IS NULL ORDER BY id', [roomId])
    return (rows as Array<{ id: string, type: string, user_id: string }>).map(r => ({ id: BigInt(r.id), type: r.type, userId: Number(r.user_id) }))
  } finally {
    await db.end()
  }
}

export const driftCounters = { joins: 0, leaves: 0, sends: 0, errors: 0 }

/**
 * One user's churn until `until`: join when out; when in, write one to three
 * messages or leave. The room's owner never leaves (a channel whose last
 * member leaves is archived).
 */
export async function churnLoop (api: () => Api, user: BenchUser, room: string, until: number, onError: (what: string, status: number, text: string) => void): Promise<void> {
  let member = false
  let seq = 0
  while (performance.now() < until) {
    await sleep(2000 + Math.random() * 6000)
    if (performance.now() >= until) break
    const opts = { token: user.token }
    if (!member) {
      const reply = await api().call('POST', `/api/rooms/${room}/join`, opts)
      if (reply.status === 200) { member = true; driftCounters.joins++ } else { driftCounters.errors++; onError('drift join', reply.status, reply.text) }
    } else if (Math.random() < 0.4) {
      const reply = await api().call('POST', `/api/rooms/${room}/leave`, opts)
      if (reply.status === 204) { member = false; driftCounters.leaves++ } else { driftCounters.errors++; onError('drift leave', reply.status, reply.text) }
    } else {
      for (let n = 1 + Math.floor(Math.random() * 3); n > 0; n--) {
        const reply = await api().call('POST', `/api/rooms/${room}/messages`, { ...opts, json: { text: `drift ${user.username} #${seq}`, clientId: `d-${user.username}-${seq++}` } })
        if (reply.status === 201) driftCounters.sends++
        else { driftCounters.errors++; onError('drift send', reply.status, reply.text) }
      }
    }
  }
}
