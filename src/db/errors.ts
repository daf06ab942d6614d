/**
 * Tells apart "the database cannot be reached or is overloaded right now"
 * (answered with 503 and Retry-After) from bugs and constraint violations.
 */
const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN', 'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_QUERY_INTERRUPTED', 'ER_CONNECTION_KILLED',
  'ER_SERVER_GONE_ERROR', 'ER_SERVER_LOST', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'ER_OPTION_PREVENTS_STATEMENT'
])

export function isDatabaseUnavailable (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown, fatal?: unknown, message?: unknown, errno?: unknown }
  if (typeof e.code === 'string' && unavailableCodes.has(e.code)) return true
  if (e.fatal === true) return true
  // mysql2's pool says these in its message only (a full queue is isDatabaseBusy).
  if (typeof e.message === 'string' && /Pool is closed|connect ETIMEDOUT|Can't add new command when connection is in closed state/i.test(e.message)) return true
  // errno 2013/2006: lost connection / server has gone away (MariaDB client codes).
  return e.errno === 2013 || e.errno === 2006
}

/** The database answers, but this process's connection queue is full: shed load briefly. */
export function isDatabaseBusy (err: unknown): boolean {
  return typeof err === 'object' && err !== null && /Queue limit reached/i.test(String((err as { message?: unknown }).message))
}

/** A UNIQUE or PRIMARY KEY violation, in either dialect. */
export function isDuplicateKey (err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const code = (err as { code?: unknown }).code
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

// Quoted literals in a database message ("Duplicate entry 'x' for key …") are values someone sent.
const scrub = (text: string): string => text.replace(/'(?:[^'\\]|\\.)*'/g, "'…'")

/**
 * An error as the log may keep it. Database errors carry the statement and
 * often the values it held (`sql`, `sqlMessage`, a message quoting an entry):
 * message texts and client ids must not end up in log files, so only the
 * error's kind, codes and a message with its quoted values blanked are kept.
 */
export function loggableError (err: unknown): { type: string, message: string, stack: string, [key: string]: unknown } {
  if (!(err instanceof Error)) return { type: typeof err, message: scrub(String(err)), stack: '' }
  const e = err as Error & Record<string, unknown>
  const out: ReturnType<typeof loggableError> = { type: e.name, message: scrub(e.message), stack: scrub(e.stack ?? '') }
  for (const key of ['code', 'errno', 'sqlState', 'statusCode']) if (e[key] !== undefined) out[key] = e[key]
  if (e.cause !== undefined) out.cause = loggableError(e.cause)
  return out
}
