import { sql, type RawBuilder } from 'kysely'
import type { Executor } from '../db/connect.js'

/** Where a scan stands: the next id range ends below `upper`; `budget` messages of the searched rooms may still be read. */
export interface ScanState {
  upper: number
  budget: number
}

export interface ScanQuery {
  roomIds: number[]
  limit: number
}

export const idList = (values: number[]): RawBuilder<unknown> => sql.join(values.map(v => sql`${v}`))
export const allOf = (conditions: Array<RawBuilder<unknown>>): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` AND `)

/** The first step is small, so a common word answers after reading a few thousand messages. */
const firstStep = 2000
const stepGrowth = 4

/** Where a scan of the messages before `before` (or all) starts. */
export async function scanStart (db: Executor, before: number | null, budget: number): Promise<ScanState> {
  const newest = await db.selectFrom('messages').select(eb => eb.fn.max('id').as('id')).executeTakeFirst()
  return { upper: Math.min(Number(newest?.id ?? 0) + 1, before ?? Number.MAX_SAFE_INTEGER), budget }
}

/**
 * The next id range holding (at most) `want` messages of the searched rooms,
 * read from the (room_id, id) index alone: the range is guessed from how dense
 * the rooms were so far, and cut at the `want`-th message when it holds more.
 */
async function nextRange (db: Executor, query: ScanQuery, upper: number, want: number, density: number): Promise<{ lower: number, count: number }> {
  const guess = Math.max(0, upper - Math.ceil(want / density))
  const rows = (await sql<{ id: string | number }>`SELECT id FROM messages
    WHERE room_id IN (${idList(query.roomIds)}) AND id >= ${guess} AND id < ${upper}
    ORDER BY id DESC LIMIT ${want}`.execute(db)).rows
  const last = rows.at(-1)
  return rows.length === want && last !== undefined ? { lower: Number(last.id), count: want } : { lower: guess, count: rows.length }
}

/**
 * Ids of live messages meeting `matches`, newest first, read one id range at
 * a time until the page is full, the history begins or the budget of messages
 * of the searched rooms is spent: a common word stops early, a rare one costs
 * a bounded scan. The state is updated to where the scan stopped.
 */
export async function scanNewest (db: Executor, query: ScanQuery, matches: Array<RawBuilder<unknown>>, state: ScanState, found: Array<{ id: string | number }> = []): Promise<Array<{ id: string | number }>> {
  let want = firstStep
  // A first guess at the share of ids that are in the searched rooms; each range corrects it.
  let density = 0.25
  while (state.upper > 0 && state.budget > 0 && found.length < query.limit) {
    const { lower, count } = await nextRange(db, query, state.upper, Math.min(want, state.budget), density)
    const conditions = [sql`m.id >= ${lower}`, sql`m.id < ${state.upper}`, sql`m.room_id IN (${idList(query.roomIds)})`, sql`m.deleted_at IS NULL`, ...matches]
    found.push(...(await sql<{ id: string | number }>`SELECT m.id FROM messages m WHERE ${allOf(conditions)}
      ORDER BY m.id DESC LIMIT ${query.limit - found.length}`.execute(db)).rows)
    density = Math.min(1, Math.max(count, 1) / Math.max(state.upper - lower, 1))
    state.budget -= count
    state.upper = lower
    want *= stepGrowth
  }
  return found
}
