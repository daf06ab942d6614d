import { sql, type RawBuilder } from 'kysely'
import type { Dialect, Executor } from '../db/connect.js'
import { fts5Match, fulltextMatch, likeContains, splitForFulltext, splitForTrigram } from './query.js'

export interface SearchQuery {
  /** The rooms to look in: the caller's own, never others. */
  roomIds: number[]
  words: string[]
  before: number | null
  /** How many ids to return at most. */
  limit: number
  /** Without an indexable word, only messages among the newest this many ids are read (LIKE has no index). */
  scanLimit: number
}

const ids = (values: number[]): RawBuilder<unknown> => sql.join(values.map(v => sql`${v}`))
const likeAll = (column: RawBuilder<unknown>, words: string[]): Array<RawBuilder<unknown>> =>
  words.map(w => sql`${column} LIKE ${likeContains(w)} ESCAPE '!'`)
const and = (conditions: Array<RawBuilder<unknown>>): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` AND `)

/**
 * Ids of live messages in the given rooms that contain every word, newest
 * first. SQLite finds words of three or more characters through its trigram
 * index, MySQL/MariaDB finds spaced words through FULLTEXT; the remaining
 * words filter those hits with LIKE. When no word can use an index, see scanNewest.
 */
export async function searchMessageIds (db: Executor, dialect: Dialect, query: SearchQuery): Promise<number[]> {
  if (query.roomIds.length === 0 || query.words.length === 0) return []
  const { indexed, scanned } = dialect === 'sqlite' ? splitForTrigram(query.words) : splitForFulltext(query.words)
  const text = sql`m.text`
  let rows: Array<{ id: string | number }>
  if (indexed.length > 0 && dialect === 'sqlite') {
    const conditions = [
      sql`message_search MATCH ${fts5Match(indexed)}`,
      sql`m.room_id IN (${ids(query.roomIds)})`,
      ...(query.before === null ? [] : [sql`message_search.rowid < ${query.before}`]),
      ...likeAll(text, scanned)
    ]
    rows = (await sql<{ id: number }>`SELECT message_search.rowid AS id FROM message_search
      JOIN messages m ON m.id = message_search.rowid
      WHERE ${and(conditions)}
      ORDER BY message_search.rowid DESC LIMIT ${query.limit}`.execute(db)).rows
  } else if (indexed.length > 0) {
    rows = await fulltextNewest(db, query, indexed, scanned)
  } else {
    rows = (await scanNewest(db, query, likeAll(text, scanned))).rows
  }
  return rows.map(r => Number(r.id))
}

/** Ids per step of a scan: small enough that a common word answers after the first step. */
const scanStep = 20000

/**
 * FULLTEXT hands over every match before any is filtered or sorted, which
 * takes seconds for a word in one message of twenty. So the newest messages
 * are scanned first as for unindexed words, the indexed ones checked as word
 * starts by REGEXP (as FULLTEXT's `word*` matches them): a common word fills
 * the page there. Only what remains asks FULLTEXT, about older messages, and a
 * word that filled no page among the newest cannot match many of them.
 */
async function fulltextNewest (db: Executor, query: SearchQuery, indexed: string[], scanned: string[]): Promise<Array<{ id: string | number }>> {
  // Indexed words hold only letters and digits, so they need no escaping in a pattern.
  const wordStarts = indexed.map(w => sql`m.text REGEXP ${`(*UCP)\\b${w}`}`)
  const recent = await scanNewest(db, query, [...likeAll(sql`m.text`, scanned), ...wordStarts])
  if (recent.rows.length >= query.limit || recent.lower === 0) return recent.rows
  const older = (await sql<{ id: string }>`SELECT m.id FROM messages m
    WHERE ${and([
      sql`MATCH (m.text) AGAINST (${fulltextMatch(indexed)} IN BOOLEAN MODE)`,
      sql`m.id < ${recent.lower}`,
      sql`m.room_id IN (${ids(query.roomIds)})`,
      sql`m.deleted_at IS NULL`,
      ...likeAll(sql`m.text`, scanned)
    ])}
    ORDER BY m.id DESC LIMIT ${query.limit - recent.rows.length}`.execute(db)).rows
  return [...recent.rows, ...older]
}

/**
 * Newest first, one id range at a time, until the page is full or `scanLimit`
 * ids (the site's newest messages before `before`) have been read: a common
 * word stops early, a rare one costs a bounded scan. `lower` is where it stopped.
 */
async function scanNewest (db: Executor, query: SearchQuery, matches: Array<RawBuilder<unknown>>): Promise<{ rows: Array<{ id: string | number }>, lower: number }> {
  const newest = await db.selectFrom('messages').select(eb => eb.fn.max('id').as('id')).executeTakeFirst()
  let upper = Math.min(Number(newest?.id ?? 0) + 1, query.before ?? Number.MAX_SAFE_INTEGER)
  const lowest = Math.max(0, upper - query.scanLimit)
  const rows: Array<{ id: string | number }> = []
  while (upper > lowest && rows.length < query.limit) {
    const lower = Math.max(lowest, upper - scanStep)
    const conditions = [sql`m.id < ${upper}`, sql`m.id >= ${lower}`, sql`m.room_id IN (${ids(query.roomIds)})`, sql`m.deleted_at IS NULL`, ...matches]
    rows.push(...(await sql<{ id: string | number }>`SELECT m.id FROM messages m WHERE ${and(conditions)}
      ORDER BY m.id DESC LIMIT ${query.limit - rows.length}`.execute(db)).rows)
    upper = lower
  }
  return { rows, lower: upper }
}
