import type { Db } from '../db/connect.js'
import type { EventLog } from '../events/event-log.js'
import { AppError } from '../http/errors.js'
import type { AuthUser } from '../auth/service.js'
import { bumpSessionVersion, findUserByUsername, publicUser } from '../auth/users.js'
import * as repo from './repository.js'

const dayMs = 86400000

/**
 * Disables an account: it cannot sign in, and every session and token it has
 * ends at once, on every node (the session version moves and an `auth` event
 * tells each node's credential cache). Its messages stay. Shared with the CLI,
 * which must work when no administrator can sign in. False: no such user.
 */
export async function disableAccount (deps: { eventLog: EventLog, db: Db }, username: string): Promise<boolean> {
  const user = await findUserByUsername(deps.db, username)
  if (user === undefined) return false
  await deps.eventLog.write(async (trx, pending) => {
    await repo.setDisabled(trx, user.id, Date.now())
    await repo.deleteTokensOf(trx, user.id)
    await bumpSessionVersion(trx, user.id)
    pending.append({ type: 'auth', roomId: null, user: publicUser(user), targetUserId: user.id })
  })
  return true
}

export async function enableAccount (deps: { eventLog: EventLog, db: Db }, username: string): Promise<boolean> {
  const user = await findUserByUsername(deps.db, username)
  if (user === undefined) return false
  await deps.eventLog.write(async (trx, pending) => {
    await repo.setDisabled(trx, user.id, null)
    pending.append({ type: 'auth', roomId: null, user: publicUser(user), targetUserId: user.id })
  })
  return true
}

export interface AdminServiceDeps { db: Db, eventLog: EventLog }

/** What the site's administrators do: invitations and accounts. Callers are checked by the routes. */
export class AdminService {
  constructor (private readonly deps: AdminServiceDeps) {}

  async createInvite (admin: AuthUser, uses: number, expiresInDays: number): Promise<{ code: string, uses: number, expiresAt: string }> {
    const code = repo.newInviteCode()
    const expiresAt = Date.now() + expiresInDays * dayMs
    await repo.insertInvite(this.deps.db, { code, createdBy: admin.id, uses, expiresAt })
    return { code, uses, expiresAt: new Date(expiresAt).toISOString() }
  }

  async listInvites (): Promise<repo.Invite[]> {
    return await repo.listInvites(this.deps.db, Date.now())
  }

  async deleteInvite (code: string): Promise<void> {
    if (!await repo.deleteInvite(this.deps.db, code)) throw new AppError('not_found', 'No such invitation.')
  }

  async listUsers (page: { q: string | null, after: string | null, limit: number }): Promise<{ users: repo.AdminUserView[], next: string | null }> {
    return await repo.listUsers(this.deps.db, page)
  }

  async disable (admin: AuthUser, username: string): Promise<void> {
    // Locking oneself out is left to the CLI, where it cannot happen by a slip.
    if (username.toLowerCase() === admin.username) throw new AppError('forbidden', 'You cannot disable your own account.')
    if (!await disableAccount(this.deps, username)) throw new AppError('not_found', 'No such user.')
  }

  async enable (username: string): Promise<void> {
    if (!await enableAccount(this.deps, username)) throw new AppError('not_found', 'No such user.')
  }

  async housekeeping (): Promise<void> {
    await repo.pruneInvites(this.deps.db, Date.now())
  }
}
