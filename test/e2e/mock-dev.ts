// TEMPORARY (delete before hand-off): runs the e2e tests against /tmp/mock while src/server.ts does not exist.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { freePort, type ServerProcess } from '../helpers/server-process.js'

interface Teardown { teardown (fn: () => unknown): void }

export async function startMock (t: Teardown, env: Record<string, string | undefined>, options: { port?: number } = {}): Promise<ServerProcess> {
  const port = options.port ?? await freePort()
  const basePath = env.BASE_PATH ?? ''
  const child = spawn(process.execPath, ['/tmp/mock/mock-server.mjs'], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const origin = `http://127.0.0.1:${port}`
  for (;;) {
    try { if ((await fetch(`${origin}${basePath}/api/health`)).ok) break } catch {}
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const proc: ServerProcess = {
    url: origin + basePath, origin, port, child, output: () => out,
    stop: async () => { child.kill('SIGTERM'); return await exited },
    kill: async () => { if (child.exitCode === null) child.kill('SIGKILL'); await exited }
  }
  t.teardown(async () => { await proc.kill() })
  void once
  return proc
}
