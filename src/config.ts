import { envSchema as envSchemaLoader } from 'env-schema'
import { Type, type Static, type TInteger } from 'typebox'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'

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
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^(mysql|mariadb)://.+', readmeDefault: '(none: SQLite)', description: '`mysql://user:pass@host:3306/db` for MySQL 5.7/8.x or MariaDB 10.3+; several hosts (`@h1:3306,h2:3306/db`) use the first that answers and move to the next when it stops' })),
  DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'where the SQLite file and the generated session secret live' }),
  SESSION_SECRET: Type.Optional(Type.String({ minLength: 32, readmeDefault: 'generated', description: 'at least 32 characters; comma-separated list to rotate (the first seals, all unseal). Several nodes must share it' })),
  SESSION_TTL_DAYS: int(1, 365, 30, 'how long a sign-in lasts'),
  PORT: Type.String({ minLength: 1, default: '3000', description: 'a port number, or a unix socket path' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'address to listen on (`0.0.0.0` for all)' }),
  BASE_PATH: Type.String({ pattern: '^(/[A-Za-z0-9._~-]+)*/?$', default: '', readmeDefault: '(empty; under Passenger its `PASSENGER_BASE_URI`)', description: 'sub-path the app is mounted under behind a proxy, e.g. `/chat`' }),
  TRUST_PROXY: Type.String({ default: 'false', description: '`true`, or a comma list of proxy addresses/CIDR ranges whose `X-Forwarded-*` headers are believed' }),
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
  FEED_WINDOW_BYTES: int(1024, 64 * 1024 * 1024 * 1024, 64 * 1024 * 1024, 'cap in bytes on the JSON that window holds (64 MiB); older events are read from the database'),
  EVENT_RETENTION_DAYS: int(1, 36500, 30, 'events older than this are deleted (in small batches, one node at a time); messages stay in history; an older cursor gets 409 `cursor_reset`'),
  MAX_HELD_POLLS: int(1, 10000000, 20000, 'held polls per process; more get 503 with `Retry-After`'),
  MAX_POLLS_PER_USER: int(1, 100000, 20, 'held polls per account; more get 429'),
  MAX_POLLS_PER_ADDRESS: int(0, 10000000, 200, 'held polls per client address (an IPv6 /64 is one; behind a proxy, see `TRUST_PROXY`) and process, all accounts together; more get 429; loopback (127.0.0.0/8, ::1) is not capped; `0` turns the cap off'),
  RATE_LOGIN_MAX: int(1, 1000000, 10, 'sign-in attempts per address (an IPv6 /64 is one) in the window (kept in the database: all nodes share it)'),
  RATE_LOGIN_WINDOW: int(1, 86400, 60, 'seconds of that window'),
  RATE_LOGIN_USER_MAX: int(1, 1000000, 100, 'sign-in attempts per username in the same window, from all addresses together'),
  LOGIN_FREE_FAILURES: int(1, 1000, 5, 'wrong passwords per (username, address) before each further try waits 1 s, 2 s, 4 s…; other addresses are not slowed'),
  LOGIN_MAX_DELAY: int(1, 86400, 900, 'longest of those waits, in seconds'),
  LOGIN_FAILURE_FORGET: int(60, 30 * 86400, 86400, "seconds after the last wrong password that a (username, address) pair's count is forgotten (a right password clears it)"),
  MAX_HASHING_PER_ADDRESS: int(1, 1000, 4, 'password hashes (sign-up, sign-in, password change, token creation) in flight per address and process; more get 429'),
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
  EXPOSE_STATS: Type.Boolean({ default: false, description: 'serve `GET /api/debug/stats` (held polls, query count, memory) for benchmarks' }),
  ATTACHMENT_STORE: Type.Enum(['folder', 'database'], { default: 'folder', description: 'where shared files are kept: `folder` (`ATTACHMENT_DIR`; several nodes must share it) or `database` (nodes that share no disk)' }),
  ATTACHMENT_DIR: Type.Optional(Type.String({ minLength: 1, readmeDefault: '`DATA_DIR/files`', description: 'the folder of `ATTACHMENT_STORE=folder`' })),
  ATTACHMENT_MAX_BYTES: int(1, 2 ** 40, 10 * 1024 * 1024, 'largest file in bytes (larger: 413 while it streams)'),
  ATTACHMENT_QUOTA_BYTES: int(0, 2 ** 50, 1024 * 1024 * 1024, "bytes of files per account, deleted messages' files not counted (over it: 413)"),
  SEARCH_SCAN_LIMIT: int(1000, 100000000, 20000, 'newest messages of the searched rooms read for a query no index answers (1-2 characters on SQLite; on MySQL text without spaces, or only common words)'),
  WEBHOOK_ALLOW_PRIVATE: Type.Boolean({ default: false, description: 'let outgoing webhooks reach loopback, private and link-local addresses (refused otherwise, also at connect time)' }),
  WEBHOOK_RETRY_SECONDS: int(1, 30 * 86400, 86400, 'how long a failing webhook delivery is retried (1 s doubling, at most 10 min apart) before the webhook is paused as `failing`'),
  WEBHOOK_MAX_IN_FLIGHT: int(1, 10000, 16, 'outgoing webhooks delivered at once per process'),
  WEBHOOKS_PER_ROOM: int(1, 1000, 10, 'incoming, and outgoing, webhooks per room'),
  // Longer than a delivery may take (10 s), so a live holder never loses it mid-request.
  WEBHOOK_LEASE_SECONDS: int(11, 3600, 30, "how long a node's claim on an outgoing webhook lasts unrenewed (another node takes it over after)"),
  WEBHOOK_INTERVAL_MS: int(10, 60000, 1000, 'how often a process looks for due webhook deliveries and for webhooks made on other nodes (and at once when events arrive in a room with a webhook)'),
  XMPP_DOMAIN: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$', readmeDefault: 'the host name', description: 'the XMPP domain of the BOSH endpoint `{BASE_PATH}/http-bind`: users are `username@XMPP_DOMAIN`, channels `name@conference.XMPP_DOMAIN` (docs/XMPP.md)' })),
  XMPP_CORS_ORIGINS: Type.String({ pattern: '^\\s*(https?://[^\\s,/]+(\\s*,\\s*https?://[^\\s,/]+)*)?\\s*$', default: '', readmeDefault: '(none)', description: 'origins (comma list, e.g. `https://converse.example.org`) whose pages may use `{BASE_PATH}/http-bind` from the browser (CORS; docs/XMPP.md)' })
})

type Env = Static<typeof envSchema>

export type Config = ReturnType<typeof toConfig>
export type RateLimitConfig = Config['rateLimit']
export type WebhookConfig = Config['webhooks']

/** Reads and checks the configuration; throws an Error naming the bad variable. */
export function loadConfig (source: Record<string, string | undefined> = process.env, readDotenv = true): Config {
  const env = envSchemaLoader<Env>({
    schema: envSchema,
    // Passenger (cPanel, Plesk) tells the app the sub-path it mounted it under.
    data: source.BASE_PATH === undefined && source.PASSENGER_BASE_URI !== undefined
      ? { ...source, BASE_PATH: source.PASSENGER_BASE_URI }
      : { ...source },
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
    feedWindowBytes: env.FEED_WINDOW_BYTES,
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    maxHeldPolls: env.MAX_HELD_POLLS,
    maxPollsPerUser: env.MAX_POLLS_PER_USER,
    maxPollsPerAddress: env.MAX_POLLS_PER_ADDRESS,
    passwordHashConcurrency: env.PASSWORD_HASH_CONCURRENCY,
    rateLimit: toRateLimitConfig(env),
    allowedOrigins: env.ALLOWED_ORIGINS.split(',').map(s => s.trim()).filter(s => s !== ''),
    exposeStats: env.EXPOSE_STATS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    attachments: toAttachmentConfig(env),
    searchScanLimit: env.SEARCH_SCAN_LIMIT,
    webhooks: toWebhookConfig(env),
    xmpp: { domain: (env.XMPP_DOMAIN ?? hostname()).toLowerCase(), corsOrigins: parseOrigins(env.XMPP_CORS_ORIGINS) }
  }
}

/** A comma list of origins, each as a browser's `Origin` header names it (scheme, host, port; no path). */
function parseOrigins (list: string): string[] {
  return list.split(',').map(s => s.trim()).filter(s => s !== '').map(s => {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      throw new Error(`XMPP_CORS_ORIGINS: ${s} is not an origin`)
    }
    if (url.username !== '' || url.password !== '') throw new Error(`XMPP_CORS_ORIGINS: ${s} is not an origin (scheme://host[:port])`)
    return url.origin
  })
}

function toRateLimitConfig (env: Env) {
  return {
    disabled: env.RATE_LIMIT_DISABLED,
    loginMax: env.RATE_LOGIN_MAX,
    loginWindowSeconds: env.RATE_LOGIN_WINDOW,
    loginUserMax: env.RATE_LOGIN_USER_MAX,
    loginFreeFailures: env.LOGIN_FREE_FAILURES,
    loginMaxDelaySeconds: env.LOGIN_MAX_DELAY,
    loginFailureForgetSeconds: env.LOGIN_FAILURE_FORGET,
    hashingPerAddress: env.MAX_HASHING_PER_ADDRESS,
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
  }
}

function toAttachmentConfig (env: Env) {
  return {
    store: env.ATTACHMENT_STORE,
    dir: env.ATTACHMENT_DIR ?? join(env.DATA_DIR, 'files'),
    maxBytes: env.ATTACHMENT_MAX_BYTES,
    quotaBytes: env.ATTACHMENT_QUOTA_BYTES
  }
}

function toWebhookConfig (env: Env) {
  return {
    allowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
    retryDeadlineMs: env.WEBHOOK_RETRY_SECONDS * 1000,
    maxInFlight: env.WEBHOOK_MAX_IN_FLIGHT,
    perRoom: env.WEBHOOKS_PER_ROOM,
    leaseMs: env.WEBHOOK_LEASE_SECONDS * 1000,
    intervalMs: env.WEBHOOK_INTERVAL_MS
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

/**
 * TRUST_PROXY: true/false, or addresses and CIDR ranges (and proxy-addr's
 * names: loopback, linklocal, uniquelocal). Not a hop count: Fastify 5 accepts
 * one but then believes no forwarded header at all (it cannot check the peer),
 * so every visitor would count as the proxy; refused here with what to write instead.
 */
function parseTrustProxy (value: string): boolean | string[] {
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false' || v === '') return false
  if (/^\d+$/.test(v)) {
    throw new Error(`TRUST_PROXY: a hop count (${v}) cannot be checked against the connecting proxy; list the proxies' addresses instead (e.g. TRUST_PROXY=127.0.0.1 for a proxy on this machine)`)
  }
  const entries = value.split(',').map(s => s.trim()).filter(s => s !== '')
  for (const entry of entries) {
    const [addr, bits, extra] = entry.split('/')
    const family = isIP(addr ?? '')
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
    const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry)
    if (!named && (family === 0 || !validBits || extra !== undefined)) {
      throw new Error(`TRUST_PROXY: "${entry}" is not true, false, an address or a CIDR range`)
    }
  }
  return entries
}
