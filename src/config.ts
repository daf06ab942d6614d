import { envSchema } from 'env-schema'
import { isIP } from 'node:net'

/**
 * Everything the app can be told, read once at start-up from the environment
 * (and a `.env` file when present). Nothing else in the code reads process.env.
 */
export interface Config {
  databaseUrl: string | undefined
  dataDir: string
  sessionSecrets: string[] | undefined
  sessionTtlSeconds: number
  port: number | string
  host: string
  basePath: string
  trustProxy: boolean | number | string[]
  pollTimeout: number
  pollMaxTimeout: number
  registration: 'open' | 'closed'
  bodyLimit: number
  requestTimeoutSeconds: number
  logLevel: string
  dbPoolSize: number
  dbQueueLimit: number
  feedIntervalMs: number
  feedWindow: number
  maxHeldPolls: number
  maxPollsPerUser: number
  passwordHashConcurrency: number
  rateLimit: RateLimitConfig
  allowedOrigins: string[]
  exposeStats: boolean
  shutdownTimeoutMs: number
}

export interface RateLimitConfig {
  disabled: boolean
  loginMax: number
  loginWindowSeconds: number
  registerMax: number
  registerWindowSeconds: number
  sendMax: number
  sendWindowSeconds: number
  tokenMax: number
  tokenWindowSeconds: number
  maxRoomsPerUser: number
  maxTokensPerUser: number
}

const int = (minimum: number, maximum: number, def: number): object =>
  ({ type: 'integer', minimum, maximum, default: def })

const envJsonSchema = {
  type: 'object',
  properties: {
    DATABASE_URL: { type: 'string', pattern: '^(mysql|mariadb)://.+' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    SESSION_SECRET: { type: 'string', minLength: 32 },
    SESSION_TTL_DAYS: int(1, 365, 30),
    PORT: { type: 'string', minLength: 1, default: '3000' },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    BASE_PATH: { type: 'string', pattern: '^(/[A-Za-z0-9._~-]+)*/?$', default: '' },
    TRUST_PROXY: { type: 'string', default: 'false' },
    POLL_TIMEOUT: int(1, 3600, 25),
    POLL_MAX_TIMEOUT: int(1, 3600, 55),
    REGISTRATION: { type: 'string', enum: ['open', 'closed'], default: 'open' },
    BODY_LIMIT: int(1024, 64 * 1024 * 1024, 64 * 1024),
    REQUEST_TIMEOUT: int(1, 3600, 30),
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    DB_POOL_SIZE: int(1, 1000, 4),
    DB_QUEUE_LIMIT: int(0, 100000, 200),
    FEED_INTERVAL_MS: int(10, 60000, 100),
    FEED_WINDOW: int(100, 10000000, 20000),
    MAX_HELD_POLLS: int(1, 10000000, 20000),
    MAX_POLLS_PER_USER: int(1, 100000, 20),
    PASSWORD_HASH_CONCURRENCY: int(1, 64, 2),
    RATE_LIMIT_DISABLED: { type: 'boolean', default: false },
    RATE_LOGIN_MAX: int(1, 1000000, 10),
    RATE_LOGIN_WINDOW: int(1, 86400, 60),
    RATE_REGISTER_MAX: int(1, 1000000, 5),
    RATE_REGISTER_WINDOW: int(1, 86400, 60),
    RATE_SEND_MAX: int(1, 1000000, 60),
    RATE_SEND_WINDOW: int(1, 86400, 10),
    RATE_TOKEN_MAX: int(1, 1000000, 10),
    RATE_TOKEN_WINDOW: int(1, 86400, 3600),
    MAX_ROOMS_PER_USER: int(1, 1000000, 500),
    MAX_TOKENS_PER_USER: int(1, 1000000, 50),
    ALLOWED_ORIGINS: { type: 'string', default: '' },
    EXPOSE_STATS: { type: 'boolean', default: false },
    SHUTDOWN_TIMEOUT_MS: int(100, 600000, 10000)
  }
} as const

type Env = Record<string, string | number | boolean | undefined>

/** Reads and checks the configuration; throws an Error naming the bad variable. */
export function loadConfig (source: Record<string, string | undefined> = process.env, readDotenv = true): Config {
  const env = envSchema<Env>({
    schema: envJsonSchema,
    data: { ...source },
    env: false,
    dotenv: readDotenv && source === process.env
  })
  return toConfig(env)
}

function toConfig (env: Env): Config {
  const str = (k: string): string => String(env[k])
  const num = (k: string): number => Number(env[k])
  const pollTimeout = num('POLL_TIMEOUT')
  const pollMaxTimeout = num('POLL_MAX_TIMEOUT')
  if (pollTimeout > pollMaxTimeout) {
    throw new Error(`POLL_TIMEOUT (${pollTimeout}) must not exceed POLL_MAX_TIMEOUT (${pollMaxTimeout})`)
  }
  const secret = env.SESSION_SECRET as string | undefined
  return {
    databaseUrl: env.DATABASE_URL as string | undefined,
    dataDir: str('DATA_DIR'),
    sessionSecrets: secret === undefined ? undefined : parseSecrets(secret),
    sessionTtlSeconds: num('SESSION_TTL_DAYS') * 86400,
    port: parsePort(str('PORT')),
    host: str('HOST'),
    basePath: str('BASE_PATH').replace(/\/$/, ''),
    trustProxy: parseTrustProxy(str('TRUST_PROXY')),
    pollTimeout,
    pollMaxTimeout,
    registration: str('REGISTRATION') as 'open' | 'closed',
    bodyLimit: num('BODY_LIMIT'),
    requestTimeoutSeconds: num('REQUEST_TIMEOUT'),
    logLevel: str('LOG_LEVEL'),
    dbPoolSize: num('DB_POOL_SIZE'),
    dbQueueLimit: num('DB_QUEUE_LIMIT'),
    feedIntervalMs: num('FEED_INTERVAL_MS'),
    feedWindow: num('FEED_WINDOW'),
    maxHeldPolls: num('MAX_HELD_POLLS'),
    maxPollsPerUser: num('MAX_POLLS_PER_USER'),
    passwordHashConcurrency: num('PASSWORD_HASH_CONCURRENCY'),
    rateLimit: {
      disabled: env.RATE_LIMIT_DISABLED === true,
      loginMax: num('RATE_LOGIN_MAX'),
      loginWindowSeconds: num('RATE_LOGIN_WINDOW'),
      registerMax: num('RATE_REGISTER_MAX'),
      registerWindowSeconds: num('RATE_REGISTER_WINDOW'),
      sendMax: num('RATE_SEND_MAX'),
      sendWindowSeconds: num('RATE_SEND_WINDOW'),
      tokenMax: num('RATE_TOKEN_MAX'),
      tokenWindowSeconds: num('RATE_TOKEN_WINDOW'),
      maxRoomsPerUser: num('MAX_ROOMS_PER_USER'),
      maxTokensPerUser: num('MAX_TOKENS_PER_USER')
    },
    allowedOrigins: str('ALLOWED_ORIGINS').split(',').map(s => s.trim()).filter(s => s !== ''),
    exposeStats: env.EXPOSE_STATS === true,
    shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT_MS')
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
