import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Role } from '../rooms/repository.js'
import type { Database } from '../db/schema.js'
import type { BoshTerms } from './bosh-session.js'
import type { XmppState } from './context.js'

/** What a node needs to go on with a session another node (or this one before a restart) answered last. */
export interface StoredSession {
  version: number
  /** 0 before sign-in: a session is stored from its creation, so the SASL step may reach any node. */
  userId: number
  /** The highest rid answered, the cursor after that answer, and the cursor it started from. */
  rid: number
  cursor: number | null
  previousCursor: number | null
  state: SealedState
}

/** The stream's state as stored: JSON, sealed. Stanza ids of seen messages are not kept (a correction then names our message id). */
export interface SealedState {
  terms: BoshTerms
  stage: XmppState['stage']
  cookie: string
  resource: string | null
  rooms: Array<{ id: number, name: string, nick: string, historyUpTo: number, banning: string[], offline: Array<[string, Role]> }>
  directs: Array<[number, string]>
  contactsOnline: string[] | null
  pausedFor: number | null
}

const digest = (label: string, sid: string): Buffer => createHash('sha256').update(`${label}\u0000${sid}`).digest()

/** The row's key: a hash of the sid, so the table does not hold the sids. */
export const storedId = (sid: string): string => digest('bosh-session-id', sid).toString('hex')

/** AES-256-GCM under a key derived from the sid: only a client that has the sid makes the state readable. */
export function seal (sid: string, state: SealedState): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', digest('bosh-session-key', sid), iv)
  const body = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

export function unseal (sid: string, sealed: string): SealedState | null {
  try {
    const raw = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', digest('bosh-session-key', sid), raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as SealedState
  } catch {
    return null
  }
}

const num = (v: string | number | null): number | null => v === null ? null : Number(v)

/**
 * The table of sessions any node can continue. Every write after the first
 * names the version it read: a node whose copy another node has moved on
 * finds out there (no row changed) and answers without the feed's events.
 */
export class BoshStore {
  constructor (private readonly db: Kysely<Database>) {}

  async load (sid: string): Promise<StoredSession | null> {
    const row = await this.db.selectFrom('bosh_sessions').selectAll().where('id', '=', storedId(sid)).where('expires_at', '>', Date.now()).executeTakeFirst()
    if (row === undefined) return null
    const state = unseal(sid, row.state)
    if (state === null) return null
    return { version: Number(row.version), userId: Number(row.user_id), rid: Number(row.rid), cursor: num(row.event_cursor), previousCursor: num(row.previous_cursor), state }
  }

  /** The current version, or null when the session is gone (ended, expired). */
  async version (sid: string): Promise<number | null> {
    const row = await this.db.selectFrom('bosh_sessions').select('version').where('id', '=', storedId(sid)).where('expires_at', '>', Date.now()).executeTakeFirst()
    return row === undefined ? null : Number(row.version)
  }

  async insert (sid: string, s: Omit<StoredSession, 'version'>, expiresAt: number): Promise<void> {
    await this.db.insertInto('bosh_sessions').values({
      id: storedId(sid), user_id: s.userId, version: 1, rid: s.rid, event_cursor: s.cursor, previous_cursor: s.previousCursor, state: seal(sid, s.state), expires_at: expiresAt
    }).execute()
  }

  /** Writes version `from + 1` if the row is still at `from`; false when another node moved it on (or it is gone). */
  async update (sid: string, from: number, s: Omit<StoredSession, 'version'>, expiresAt: number): Promise<boolean> {
    const result = await this.db.updateTable('bosh_sessions')
      .set({ version: from + 1, user_id: s.userId, rid: s.rid, event_cursor: s.cursor, previous_cursor: s.previousCursor, state: seal(sid, s.state), expires_at: expiresAt })
      .where('id', '=', storedId(sid)).where('version', '=', from)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async delete (sid: string): Promise<void> {
    await this.db.deleteFrom('bosh_sessions').where('id', '=', storedId(sid)).execute()
  }

  async deleteExpired (now: number): Promise<void> {
    await this.db.deleteFrom('bosh_sessions').where('expires_at', '<=', now).execute()
  }
}
