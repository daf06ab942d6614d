import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Config } from '../config.js'

/**
 * With no SESSION_SECRET, one is made on first start and kept in the data
 * folder, so `npm start` needs no setup. Several nodes must share one instead.
 */
export function sessionSecrets (config: Config, warn: (msg: string) => void): string[] {
  if (config.sessionSecrets !== undefined) return config.sessionSecrets
  const file = join(config.dataDir, 'session-secret')
  mkdirSync(config.dataDir, { recursive: true })
  if (!existsSync(file)) writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600 })
  warn(`SESSION_SECRET is not set: using the generated secret in ${file}. Several nodes need one shared SESSION_SECRET.`)
  return [readFileSync(file, 'utf8').trim()]
}
