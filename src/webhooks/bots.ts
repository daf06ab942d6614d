import { createHash, randomBytes } from 'node:crypto'
import type { Executor } from '../db/connect.js'
import { isDuplicateKey } from '../db/errors.js'
import type { PublicUser } from '../events/event.js'

/*
 * Each webhook posts as a bot user of its own. Bots cannot sign in or be named
 * by any route: their usernames start with `~`, which no username pattern
 * accepts (register, login, direct rooms, adding members), and their password
 * hash is not a hash. They are no room's members.
 */
const maxNamesPerHook = 20

export interface Bot extends PublicUser { bot: true }

const asBot = (id: number | string, username: string, displayName: string): Bot =>
  ({ id: String(id), username, displayName, bot: true })

export async function createBot (db: Executor, displayName: string): Promise<Bot> {
  const username = `~${randomBytes(6).toString('hex')}`
  const result = await db.insertInto('users').values({
    username, display_name: displayName, password_hash: '!', is_bot: 1, created_at: Date.now()
  }).executeTakeFirstOrThrow()
  return asBot(Number(result.insertId), username, displayName)
}

export async function findBot (db: Executor, id: number): Promise<Bot | undefined> {
  const row = await db.selectFrom('users').select(['id', 'username', 'display_name']).where('id', '=', id).where('is_bot', '=', 1).executeTakeFirst()
  return row === undefined ? undefined : asBot(row.id, row.username, row.display_name)
}

/**
 * The bot a post names with Slack's `username` field: one bot per name and hook
 * (so history shows each name on its own user), at most 20 names per hook;
 * beyond that, and for the hook's own name, the hook's bot.
 */
export async function botNamed (db: Executor, hookBot: Bot, name: string | undefined): Promise<Bot> {
  if (name === undefined || name === hookBot.displayName) return hookBot
  const username = `${hookBot.username}.${createHash('sha256').update(name).digest('hex').slice(0, 12)}`
  const find = async (): Promise<Bot | undefined> => {
    const row = await db.selectFrom('users').select(['id', 'display_name']).where('username', '=', username).executeTakeFirst()
    return row === undefined ? undefined : asBot(row.id, username, row.display_name)
  }
  const existing = await find()
  if (existing !== undefined) return existing
  const count = await db.selectFrom('users').select(eb => eb.fn.countAll().as('n'))
    .where('username', 'like', `${hookBot.username}.%`).executeTakeFirst()
  if (Number(count?.n ?? 0) >= maxNamesPerHook) return hookBot
  try {
    const result = await db.insertInto('users').values({
      username, display_name: name, password_hash: '!', is_bot: 1, created_at: Date.now()
    }).executeTakeFirstOrThrow()
    return asBot(Number(result.insertId), username, name)
  } catch (err) {
    // Two posts with a new name at once: the other one made it.
    if (isDuplicateKey(err)) return await find() ?? hookBot
    throw err
  }
}
