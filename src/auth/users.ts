import { sql } from 'kysely'
import type { Executor } from '../db/connect.js'
import type { UserRow } from '../db/rows.js'
import type { PublicUser } from '../events/event.js'

/** A user as the app works with it; never leaves the server with its hash. */
export interface UserRecord {
  id: number
  username: string
  displayName: string
  isAdmin: boolean
  sessionVersion: number
  passwordHash: string
  /** A disabled account cannot sign in, and its sessions and tokens are refused. */
  disabled: boolean
}

export const publicUser = (u: { id: number, username: string, displayName: string }): PublicUser =>
  ({ id: String(u.id), username: u.username, displayName: u.displayName })

const toUser = (r: UserRow): UserRecord => ({
  id: Number(r.id),
  username: r.username,
  displayName: r.display_name,
  isAdmin: Number(r.is_admin) === 1,
  sessionVersion: Number(r.session_version),
  passwordHash: r.password_hash,
  disabled: r.disabled_at !== null
})

const columns = ['id', 'username', 'display_name', 'is_admin', 'session_version', 'password_hash', 'disabled_at'] as const

export async function findUserById (db: Executor, id: number): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').select(columns).where('id', '=', id).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

/** The owner of an API token, by the token's id. */
export async function findUserByToken (db: Executor, tokenId: number): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('api_tokens as t').innerJoin('users as u', 'u.id', 't.user_id')
    .select(columns.map(c => `u.${c}` as const)).where('t.id', '=', tokenId).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

export async function findUserByUsername (db: Executor, username: string): Promise<UserRecord | undefined> {
  const row = await db.selectFrom('users').select(columns).where('username', '=', username.toLowerCase()).executeTakeFirst()
  return row === undefined ? undefined : toUser(row)
}

/** Inserts a user; a duplicate username surfaces as the database's unique-key error. */
export async function insertUser (db: Executor, u: { username: string, displayName: string, passwordHash: string }): Promise<number> {
  const result = await db.insertInto('users').values({
    username: u.username.toLowerCase(),
    display_name: u.displayName,
    password_hash: u.passwordHash,
    created_at: Date.now()
  }).executeTakeFirstOrThrow()
  return Number(result.insertId)
}

export async function hasAnyUser (db: Executor): Promise<boolean> {
  return await db.selectFrom('users').select('id').limit(1).executeTakeFirst() !== undefined
}

/** The first account is the administrator; MIN(id) settles a race between two "first" sign-ups. */
export async function promoteIfFirst (db: Executor, userId: number): Promise<boolean> {
  const row = await db.selectFrom('users').select(eb => eb.fn.min('id').as('first')).executeTakeFirst()
  if (Number(row?.first) !== userId) return false
  await db.updateTable('users').set({ is_admin: 1 }).where('id', '=', userId).execute()
  return true
}

export async function setAdmin (db: Executor, username: string, isAdmin: boolean): Promise<boolean> {
  const result = await db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('username', '=', username.toLowerCase()).executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function setPasswordHash (db: Executor, userId: number, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute()
}

/** Ends every session of a user: cookies carry the version they were sealed with. */
export async function bumpSessionVersion (db: Executor, userId: number): Promise<number> {
  await db.updateTable('users').set({ session_version: sql<number>`session_version + 1` }).where('id', '=', userId).execute()
  const row = await db.selectFrom('users').select('session_version').where('id', '=', userId).executeTakeFirstOrThrow()
  return Number(row.session_version)
}

export async function isSessionRevoked (db: Executor, sessionId: string): Promise<boolean> {
  const row = await db.selectFrom('revoked_sessions').select('session_id').where('session_id', '=', sessionId).executeTakeFirst()
  return row !== undefined
}

export async function revokedSessionsOf (db: Executor, userId: number): Promise<string[]> {
  const rows = await db.selectFrom('revoked_sessions').select('session_id').where('user_id', '=', userId).execute()
  return rows.map(r => r.session_id)
}

export async function revokeSession (db: Executor, userId: number, sessionId: string, expiresAt: number): Promise<void> {
  const existing = await db.selectFrom('revoked_sessions').select('session_id').where('session_id', '=', sessionId).executeTakeFirst()
  if (existing !== undefined) return
  await db.insertInto('revoked_sessions').values({ session_id: sessionId, user_id: userId, expires_at: expiresAt }).execute()
}

/** Revocations outlive the cookies they stop by the cookie's lifetime, no more. */
export async function pruneRevokedSessions (db: Executor, now = Date.now()): Promise<void> {
  await db.deleteFrom('revoked_sessions').where('expires_at', '<', now).execute()
}

/** Seen at `at`, and away or not as their latest poll said: one statement per verdict. */
export async function markSeen (db: Executor, userIds: number[], at: number, away = false): Promise<void> {
  if (userIds.length === 0) return
  await db.updateTable('users').set({ last_seen_at: at, away: away ? 1 : 0 }).where('id', 'in', userIds).execute()
}
