import type { Executor } from '../db/connect.js'

export interface TokenSummary {
  id: string
  name: string
  createdAt: string
  lastUsedAt: string | null
}

const iso = (ms: string | number | null): string | null => ms === null ? null : new Date(Number(ms)).toISOString()

export async function insertToken (db: Executor, t: { userId: number, name: string, tokenHash: string }): Promise<TokenSummary> {
  const createdAt = Date.now()
  const result = await db.insertInto('api_tokens').values({ user_id: t.userId, name: t.name, token_hash: t.tokenHash, created_at: createdAt }).executeTakeFirstOrThrow()
  return { id: String(result.insertId), name: t.name, createdAt: new Date(createdAt).toISOString(), lastUsedAt: null }
}

export async function countTokens (db: Executor, userId: number): Promise<number> {
  const row = await db.selectFrom('api_tokens').select(eb => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirst()
  return Number(row?.n ?? 0)
}

export async function listTokens (db: Executor, userId: number): Promise<TokenSummary[]> {
  const rows = await db.selectFrom('api_tokens').select(['id', 'name', 'created_at', 'last_used_at'])
    .where('user_id', '=', userId).orderBy('id').execute()
  return rows.map(r => ({ id: String(r.id), name: r.name, createdAt: iso(r.created_at) as string, lastUsedAt: iso(r.last_used_at) }))
}

export async function deleteToken (db: Executor, userId: number, tokenId: number): Promise<boolean> {
  const result = await db.deleteFrom('api_tokens').where('id', '=', tokenId).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

export async function deleteAllTokens (db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('user_id', '=', userId).execute()
}

export async function findTokenOwner (db: Executor, tokenHash: string): Promise<{ tokenId: number, userId: number, lastUsedAt: number | null } | undefined> {
  const row = await db.selectFrom('api_tokens').select(['id', 'user_id', 'last_used_at']).where('token_hash', '=', tokenHash).executeTakeFirst()
  return row === undefined
    ? undefined
    : { tokenId: Number(row.id), userId: Number(row.user_id), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at) }
}

export async function touchTokens (db: Executor, tokenIds: number[], at: number): Promise<void> {
  if (tokenIds.length === 0) return
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', 'in', tokenIds).execute()
}
