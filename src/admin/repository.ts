import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import type { Executor } from '../db/connect.js'
import type { PublicUser } from '../events/event.js'

export interface Invite { code: string, usesLeft: number, expiresAt: string, createdBy: PublicUser }

/** 128 random bits, URL-safe: an invitation cannot be guessed. */
export const newInviteCode = (): string => randomBytes(16).toString('base64url')

export async function insertInvite (db: Executor, i: { code: string, createdBy: number, uses: number, expiresAt: number }): Promise<void> {
  await db.insertInto('invites').values({ code: i.code, created_by: i.createdBy, uses_left: i.uses, expires_at: i.expiresAt, created_at: Date.now() }).execute()
}

/** Invitations still usable, newest first. */
export async function listInvites (db: Executor, now: number): Promise<Invite[]> {
  const rows = await db.selectFrom('invites as i').innerJoin('users as u', 'u.id', 'i.created_by')
    .select(['i.code', 'i.uses_left', 'i.expires_at', 'u.id', 'u.username', 'u.display_name'])
    .where('i.uses_left', '>', 0).where('i.expires_at', '>', now)
    .orderBy('i.created_at', 'desc').limit(1000).execute()
  return rows.map(r => ({
    code: r.code,
    usesLeft: Number(r.uses_left),
    expiresAt: new Date(Number(r.expires_at)).toISOString(),
    createdBy: { id: String(r.id), username: r.username, displayName: r.display_name }
  }))
}

export async function deleteInvite (db: Executor, code: string): Promise<boolean> {
  const result = await db.deleteFrom('invites').where('code', '=', code).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Takes one use of a valid invitation in one statement, so two sign-ups cannot share its last use. */
export async function consumeInvite (db: Executor, code: string, now: number): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(code)) return false
  const result = await db.updateTable('invites').set({ uses_left: sql<number>`uses_left - 1` })
    .where('code', '=', code).where('uses_left', '>', 0).where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function pruneInvites (db: Executor, now: number): Promise<void> {
  await db.deleteFrom('invites').where(eb => eb.or([eb('expires_at', '<=', now), eb('uses_left', '<=', 0)])).execute()
}

export interface AdminUserView {
  id: string
  username: string
  displayName: string
  admin: boolean
  disabled: boolean
  createdAt: string
  lastSeenAt: string | null
}

const likeContains = (q: string): string => `%${q.replace(/[!%_]/g, c => `!${c}`)}%`

/** A page of accounts by username: those whose username or display name contains `q`, after `after`. */
export async function listUsers (db: Executor, page: { q: string | null, after: string | null, limit: number }): Promise<{ users: AdminUserView[], next: string | null }> {
  let query = db.selectFrom('users').select(['id', 'username', 'display_name', 'is_admin', 'disabled_at', 'created_at', 'last_seen_at'])
  if (page.q !== null) {
    const pattern = likeContains(page.q.toLowerCase())
    query = query.where(sql<boolean>`(username LIKE ${pattern} ESCAPE '!' OR LOWER(display_name) LIKE ${pattern} ESCAPE '!')`)
  }
  if (page.after !== null) query = query.where('username', '>', page.after.toLowerCase())
  const rows = await query.orderBy('username').limit(page.limit + 1).execute()
  const users = rows.slice(0, page.limit).map(r => ({
    id: String(r.id),
    username: r.username,
    displayName: r.display_name,
    admin: Number(r.is_admin) === 1,
    disabled: r.disabled_at !== null,
    createdAt: new Date(Number(r.created_at)).toISOString(),
    lastSeenAt: r.last_seen_at === null ? null : new Date(Number(r.last_seen_at)).toISOString()
  }))
  return { users, next: rows.length > page.limit ? users[users.length - 1]?.username ?? null : null }
}

export async function setDisabled (db: Executor, userId: number, at: number | null): Promise<void> {
  await db.updateTable('users').set({ disabled_at: at }).where('id', '=', userId).execute()
}

export async function deleteTokensOf (db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('user_id', '=', userId).execute()
}
