import { sql, type RawBuilder } from 'kysely'
import type { Dialect, Executor } from '../db/connect.js'
import { fts5Match, likeContains, splitForFulltext, splitForTrigram } from './query.js'
import { fulltextNewest } from './fulltext.js'
import { allOf, idList, scanNewest, scanStart } from './scan.js'

export interface SearchQuery {
  /** The rooms to look in: the caller's own, never others. */
  roomIds: number[]
  words: string[]
  before: number | null
  /** How many ids to return at most. */
  limit: number
  /** Without an indexable word, only this many of the newest messages of the searched rooms are read (LIKE has no index). */
  scanLimit: number
}

const likeAll = (column: RawBuilder<unknown>, words: string[]): Array<RawBuilder<unknown>> =>
  words.map(w => sql`${column} LIKE ${likeContains(w)} ESCAPE '!'`)

/**
 * Ids of live messages in the given rooms that contain every word, newest
 * first. SQLite finds words of three or more characters through its trigram
 * index, MySQL/MariaDB finds spaced words as fulltextNewest explains; the
 * remaining words filter those hits with LIKE. When no word can use an index, see scanNewest.
 */
export async function searchMessageIds (db: Executor, dialect: Dialect, query: SearchQuery): Promise<number[]> {
  if (query.roomIds.length === 0 || query.words.length === 0) return []
  const { indexed, scanned } = dialect === 'sqlite' ? splitForTrigram(query.words) : splitForFulltext(query.words)
  const text = sql`m.text`
  if (indexed.length > 0 && dialect === 'sqlite') {
    const conditions = [
      sql`message_search MATCH ${fts5Match(indexed)}`,
      sql`m.room_id IN (${idList(query.roomIds)})`,
      ...(query.before === null ? [] : [sql`message_search.rowid < ${query.before}`]),
      ...likeAll(text, scanned)
    ]
    const rows = (await sql<{ id: number }>`SELECT message_search.rowid AS id FROM message_search
      JOIN messages m ON m.id = message_search.rowid
      WHERE ${allOf(conditions)}
      ORDER BY message_search.rowid DESC LIMIT ${query.limit}`.execute(db)).rows
    return rows.map(r => Number(r.id))
  }
  if (indexed.length > 0) return await fulltextNewest(db, { ...query, dialect }, indexed, likeAll(text, scanned))
  return await scanNewest(db, query, likeAll(text, scanned), await scanStart(db, dialect, query.before, query.scanLimit))
}
