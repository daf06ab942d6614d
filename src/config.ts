import { envSchema as envSchemaLoader } from 'env-schema'
import { Type, type Static, type TInteger } from 'typebox'
import { isIP } from 'node:net'

/**
 * Everything the app can be told, read once at start-up from the environment
 * (and a `.env` file when present). Nothing else in the code reads process.env.
 * This schema is the one declaration: it validates, fills in defaults, types
 * the values, and is the README's configuration table (a test compares them).
 * `readmeDefault` says what the table shows when the default is not a value.
 */
const int = (minimum: number, maximum: number, def: number, description: string): TInteger =>
  Type.Integer({ minimum, maximum, default: def, description })

export const envSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(mysql|mariadb)://.+', readmeDefault: '(none: SQLite)', description: '`mysql://user:pass@host:3306/db` for MySQL 5.7/8.x or MariaDB 10.3+' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'where the SQLite file and the generated session secret live' }),
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32, readmeDefault: 'generated', description: 'at least 32 characters; comma-separated list to rotate (the first seals, all unseal). Several nodes must share it' })),
  SESSION_TTL_DAYS: int(1, 365, 30, 'how long a sign-in lasts'),
  PORT: Type.String({ minLength: 1, default: '3000', description: 'a port number, or a unix socket path' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to listen on (`0.0.0.0` for all)' }),
  BASE_PATH: Type.String({ pattern: '^(/[A-Za-z0-9._~-]+)*/?$', default: '', readmeDefault: '(empty)', description: 'sub-path the app is mounted under behind a proxy, e.g. `/chat`' }),
  TRUST_PROXY: Type.String({ default: 'false', description: '`true`, a hop count, or a comma list of proxy addresses/CIDR ranges whose `X-Forwarded-*` headers are believed' }),
  ALLOWED_ORIGINS: Type.String({ default: '', readmeDefault: '(none)', description: 'extra origins (comma list) allowed to make cookie-authenticated writes' }),
  POLL_TIMEOUT: int(1, 3600, 25, 'seconds a poll is held by default'),
  POLL_MAX_TIMEOUT: int(1, 3600, 55, "cap on a poll's `timeout`"),
  REGISTRATION: Type.Enum(['open', 'invite', 'closed'], { default: 'open', description: '`closed` refuses new accounts; `invite` needs an invitation code an administrator made (the first account needs none)' }),
  BODY_LIMIT: int(1024, 64 * 1024 * 1024, 64 * 1024, 'largest request body in bytes (larger: 413)'),
  REQUEST_TIMEOUT: int(1, 3600, 30, 'seconds a client may take to send a whole request (slower ones are cut off; held polls are not affected)'),
  DB_POOL_SIZE: int(1, 1000, 4, 'database connections per process (mind `max_user_connections` × processes)'),
  DB_QUEUE_LIMIT: int(0, 100000, 200, 'requests that may wait for a connection before the server answers 503'),
  FEED_INTERVAL_MS: int(10, 60000, 100, 'how often a node looks for events written by other nodes while polls are held'),
  FEED_WINDOW: int(100, 10000000, 20000, 'recent events kept in memory per process for polls to read'),
  MAX_HELD_POLLS: int(1, 10000000, 20000, 'held polls per process; more get 503 with `Retry-After`'),
  MAX_POLLS_PER_USER: int(1, 100000, 20, 'held polls per account; more get 429'),
  RATE_LOGIN_MAX: int(1, 1000000, 10, 'sign-in attempts per address and per username in the window (kept in the database: all nodes share it)'),
  RATE_LOGIN_WINDOW: int(1, 86400, 60, 'seconds of that window'),
  RATE_REGISTER_MAX: int(1, 1000000, 5, 'registrations per address in the window'),
  RATE_REGISTER_WINDOW: int(1, 86400, 60, 'seconds of that window'),
  RATE_SEND_MAX: int(1, 1000000, 60, 'messages per account in the window'),
  RATE_SEND_WINDOW: int(1, 86400, 10, 'seconds of that window'),
  RATE_TOKEN_MAX: int(1, 1000000, 10, 'API tokens created per account in the window'),
  RATE_TOKEN_WINDOW: int(1, 86400, 3600, 'seconds of that window'),
  RATE_LOOKUP_MAX: int(1, 1000000, 120, 'per account in the window: opening direct rooms, member lists and room creation (each tells whether a user or room exists)'),
  RATE_LOOKUP_WINDOW: int(1, 86400, 60, 'seconds of that window'),
  RATE_LIMIT_DISABLED: Type.Boolean({ default: false, description: 'turn every rate limit off (benchmarks)' }),
  MAX_ROOMS_PER_USER: int(1, 1000000, 500, 'rooms an account may be in, and rooms it may ever create (channels and direct rooms)'),
  MAX_TOKENS_PER_USER: int(1, 1000000, 50, 'API tokens an account may hold'),
  PASSWORD_HASH_CONCURRENCY: int(1, 64, 2, 'scrypt hashes computed at once (the rest queue)'),
  SHUTDOWN_TIMEOUT_MS: int(100, 600000, 10000, 'how long a stopping process may take before it exits anyway'),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: '`fatal` … `trace`, or `silent`' }),
  EXPOSE_STATS: Type.Boolean({ default: false, description: 'serve `GET /api/debug/stats` (held polls, query count, memory) for benchmarks' })
})

type Env = Static<typeof envSchema>

export type Config = ReturnType<typeof toConfig>
export type RateLimitConfig = Config['rateLimit']

/** Reads and checks the configuration; throws an Error naming the bad variable. */
export function loadConfig (source: Record<string, string | undefined> = process.env, readDotenv = true): Config {
  const env = envSchemaLoader<Env>({
    schema: envSchema,
    data: { ...source },
    env: false,
    dotenv: readDotenv && source === process.env,
    // The table's annotation is not a validation keyword.
    ajv: { customOptions: ajv => ajv.addKeyword({ keyword: 'readmeDefault', metaSchema: { type: 'string' } }) }
  })
  return toConfig(env)
}

interface TableAnnotations { default?: unknown, readmeDefault?: string, description?: string }

/** The README's configuration table, rendered from the schema. */
export function configTable (): string {
  const rows = Object.entries(envSchema.properties as Record<string, TableAnnotations>).map(([name, schema]) =>
    `| \`${name}\` | ${schema.readmeDefault ?? `\`${String(schema.default)}\``} | ${schema.description ?? ''} |`)
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

function toConfig (env: Env) {
  if (env.POLL_TIMEOUT > env.POLL_MAX_TIMEOUT) {
    throw new Error(`POLL_TIMEOUT (${env.POLL_TIMEOUT}) must not exceed POLL_MAX_TIMEOUT (${env.POLL_MAX_TIMEOUT})`)
  }
  return {
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    sessionSecrets: env.SESSION_SECRET === undefined ? undefined : parseSecrets(env.SESSION_SECRET),
    sessionTtlSeconds: env.SESSION_TTL_DAYS * 86400,
    port: parsePort(env.PORT),
    host: env.HOST,
    basePath: env.BASE_PATH.replace(/\/$/, ''),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    pollTimeout: env.POLL_TIMEOUT,
    pollMaxTimeout: env.POLL_MAX_TIMEOUT,
    registration: env.REGISTRATION,
    bodyLimit: env.BODY_LIMIT,
    requestTimeoutSeconds: env.REQUEST_TIMEOUT,
    logLevel: env.LOG_LEVEL,
    dbPoolSize: env.DB_POOL_SIZE,
    dbQueueLimit: env.DB_QUEUE_LIMIT,
    feedIntervalMs: env.FEED_INTERVAL_MS,
    feedWindow: env.FEED_WINDOW,
    maxHeldPolls: env.MAX_HELD_POLLS,
    maxPollsPerUser: env.MAX_POLLS_PER_USER,
    passwordHashConcurrency: env.PASSWORD_HASH_CONCURRENCY,
    rateLimit: {
      disabled: env.RATE_LIMIT_DISABLED,
      loginMax: env.RATE_LOGIN_MAX,
      loginWindowSeconds: env.RATE_LOGIN_WINDOW,
      registerMax: env.RATE_REGISTER_MAX,
      registerWindowSeconds: env.RATE_REGISTER_WINDOW,
      sendMax: env.RATE_SEND_MAX,
      sendWindowSeconds: env.RATE_SEND_WINDOW,
      tokenMax: env.RATE_TOKEN_MAX,
      tokenWindowSeconds: env.RATE_TOKEN_WINDOW,
      lookupMax: env.RATE_LOOKUP_MAX,
      lookupWindowSeconds: env.RATE_LOOKUP_WINDOW,
      maxRoomsPerUser: env.MAX_ROOMS_PER_USER,
      maxTokensPerUser: env.MAX_TOKENS_PER_USER
    },
    allowedOrigins: env.ALLOWED_ORIGINS.split(',').map(s => s.trim()).filter(s => s !== ''),
    exposeStats: env.EXPOSE_STATS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS
  }
}

function parseSecrets (value: string): string[] {
  const secrets = value.split(',').map(s => s.trim())
  if (secrets.some(s => s.length < 32)) {
    throw new Error('SESSION_SECRET: every comma-separated secret must be at least 32 characters')
  }
  return secrets
}

function parsePort (value: string): number | string {
  if (/^\d+$/.test(value)) {
    const port = Number(value)
    if (port > 65535) throw new Error(`PORT: ${value} is not a valid port number (0-65535)`)
    return port
  }
  // Anything else must be a unix socket path, as Passenger and some hosts use.
  if (!value.includes('/')) throw new Error(`PORT: "${value}" is neither a port number nor a unix socket path`)
  return value
}

/** TRUST_PROXY takes what Fastify's trustProxy takes: true/false, a hop count, or addresses and CIDR ranges. */
function parseTrustProxy (value: string): boolean | number | string[] {
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false' || v === '') return false
  if (/^\d+$/.test(v)) return Number(v)
  const entries = value.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/')
    const family = isIP(addr ?? '')
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry)
    if (!named && (family === 0 || !validBits || extra !== undefined)) {
      throw new Error(`TRUST_PROXY: "${entry}" is not true, false, a hop count, an address or a CIDR range`)
    }
  }
  return entries
}
