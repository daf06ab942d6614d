import { randomBytes } from 'node:crypto'
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js'

// Shared by the browser tests: a real server process, a real headless
// Chromium (Debian's /usr/bin/chromium), and the few steps every test takes
// through the UI by the accessible names the client promises.

interface Teardown { teardown (fn: () => unknown): void }

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

export async function launchBrowser (t: Teardown): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS
  })
  t.teardown(async () => { await browser.close() })
  return browser
}

export interface Chat {
  server: ServerProcess
  db: TestDatabase
  env: Record<string, string | undefined>
  /** The page URL: `{origin}{BASE_PATH}/`. */
  home: string
}

/** A server of its own (database, data folder, secret) for one test file. */
export async function startChat (t: Teardown, options: { basePath?: string, env?: Record<string, string> } = {}): Promise<Chat> {
  const db = await createTestDatabase(t)
  const env: Record<string, string | undefined> = {
    DATA_DIR: db.dataDir,
    DATABASE_URL: db.databaseUrl,
    SESSION_SECRET: randomBytes(32).toString('hex'),
    BASE_PATH: options.basePath ?? '',
    ...options.env
  }
  // Generous: on a machine shared by several test runs, tsx can take half a minute to start.
  const server = await startServerProcess(t, env, { timeoutMs: 60000 })
  return { server, db, env, home: server.url + '/' }
}

/** Stops the server and starts a new one on the same port, database and secret. */
export async function restartServer (t: Teardown, chat: Chat): Promise<void> {
  const port = chat.server.port
  await chat.server.stop()
  chat.server = await startServerProcess(t, chat.env, { port, timeoutMs: 60000 })
}

/** Polls `check` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function until<T> (what: string, check: () => Promise<T> | T, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`)
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

export const PASSWORD = 'correct horse battery'

/** Registers through the sign-in screen and waits for the chat. */
export async function register (page: Page, home: string, username: string): Promise<void> {
  await page.goto(home)
  await page.getByLabel('Username', { exact: true }).fill(username)
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

export async function signIn (page: Page, home: string, username: string): Promise<void> {
  await page.goto(home)
  await page.getByLabel('Username', { exact: true }).fill(username)
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Sign out' }).waitFor()
}

export async function createRoom (page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'New room' }).click()
  await page.getByLabel('Room name').fill(name)
  await page.getByRole('button', { name: 'Create', exact: true }).click()
  await page.getByRole('heading', { name: '#' + name }).waitFor()
}

export async function joinRoom (page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Browse channels' }).click()
  await page.getByRole('button', { name: `Join #${name}` }).click()
  await page.getByRole('heading', { name: '#' + name }).waitFor()
}

export async function openRoom (page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: label }).click()
  await page.getByRole('heading', { name: label }).waitFor()
}

/** Types into the composer and presses Enter. */
export async function say (page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true })
  await box.fill(text)
  await box.press('Enter')
}

/** A message with exactly this text in the open room's log. */
export function messageInLog (page: Page, text: string) {
  return page.getByRole('log').locator('li.msg').filter({ has: page.locator('.text', { hasText: text }) })
}

export async function waitForMessage (page: Page, text: string, timeoutMs = 10000): Promise<void> {
  await messageInLog(page, text).first().waitFor({ timeout: timeoutMs })
}

/**
 * Counts the requests matching `test` in flight in a context, and the most ever
 * at once. A closed tab's requests end with it (its connections are torn down;
 * Playwright reports no `requestfailed` for them): call `forget(page)` right
 * before closing it, since another tab may take over before `close` is reported.
 */
export function trackInFlight (context: BrowserContext, test: (url: string) => boolean) {
  const live = new Map<Request, Page | null>()
  const forget = (page: Page) => {
    for (const [req, owner] of live) if (owner === page) live.delete(req)
  }
  const stats = {
    started: 0,
    max: 0,
    get current () { return live.size },
    /** Call just before closing a tab: its requests end with it. */
    forget
  }
  context.on('request', req => {
    if (!test(req.url())) return
    let page: Page | null = null
    try { page = req.frame().page() } catch { /* a service worker's request */ }
    live.set(req, page)
    stats.started++
    stats.max = Math.max(stats.max, live.size)
  })
  const done = (req: Request) => { live.delete(req) }
  context.on('requestfinished', done)
  context.on('requestfailed', done)
  context.on('page', page => { page.on('close', () => forget(page)) })
  return stats
}

export const isPoll = (url: string): boolean => new URL(url).pathname.endsWith('/api/poll')
