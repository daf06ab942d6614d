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
  /** Without an indexed word, only this many of the newest messages are read (LIKE has no index). */
  scanLimit: number
}

const ids = (values: number[]): RawBuilder<unknown> => sql.join(values.map(v => sql`${v}`))
const likeAll = (column: RawBuilder<unknown>, words: string[]): RawBuilder<unknown>[] =>
  words.map(w => sql`${column} LIKE ${likeContains(w)} ESCAPE '!'`)
const and = (conditions: RawBuilder<unknown>[]): RawBuilder<unknown> =>
  conditions.length === 0 ? sql`1 = 1` : sql.join(conditions, sql` AND `)

/**
 * Ids of live messages in the given rooms that contain every word, newest
 * first. SQLite finds words of three or more characters through its trigram
 * index, MySQL/MariaDB finds spaced words through FULLTEXT; the remaining
 * words filter those hits with LIKE. When no word can use an index, the newest
 * `scanLimit` messages of the rooms are read with LIKE alone.
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
    const conditions = [
      sql`MATCH (m.text) AGAINST (${fulltextMatch(indexed)} IN BOOLEAN MODE)`,
      sql`m.room_id IN (${ids(query.roomIds)})`,
      sql`m.deleted_at IS NULL`,
      ...(query.before === null ? [] : [sql`m.id < ${query.before}`]),
      ...likeAll(text, scanned)
    ]
    rows = (await sql<{ id: string }>`SELECT m.id FROM messages m WHERE ${and(conditions)}
      ORDER BY m.id DESC LIMIT ${query.limit}`.execute(db)).rows
  } else {
    const window = [sql`w.room_id IN (${ids(query.roomIds)})`, ...(query.before === null ? [] : [sql`w.id < ${query.before}`])]
    rows = (await sql<{ id: string | number }>`SELECT m.id FROM
      (SELECT w.id FROM messages w WHERE ${and(window)} ORDER BY w.id DESC LIMIT ${query.scanLimit}) recent
      JOIN messages m ON m.id = recent.id
      WHERE m.deleted_at IS NULL AND ${and(likeAll(text, scanned))}
      ORDER BY m.id DESC LIMIT ${query.limit}`.execute(db)).rows
  }
  return rows.map(r => Number(r.id))
}
