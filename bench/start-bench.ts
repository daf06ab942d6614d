/**
 * How long `npm start` takes to answer /api/health on a checkout that was
 * installed and built once: a node restarted by Passenger or a supervisor
 * answers nothing until then. Runs the start `--runs` times on the embedded
 * database (the first on an empty data folder, so it includes the
 * migrations) and prints the wall time to healthy and the server's own CPU;
 * exits 1 when the median is over the floor (2 s).
 *
 *   npm run bench:start -- --runs 5
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cpuMicros } from './lib/proc.js'

const floorSeconds = 2
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, port: { type: 'string', default: '18455' } } })
const runs = Number(values.runs)
const port = Number(values.port)
const root = new URL('../', import.meta.url).pathname

// The build check is part of `npm start` (prestart); run it once so a stale build is not timed as a start.
spawnSync('npm', ['run', '--silent', 'prestart'], { cwd: root, stdio: 'inherit' })

/** The pid of the node process listening on the port (npm starts it through a shell). */
function listener (): number | null {
  const out = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout
  const match = /pid=(\d+)/.exec(out)
  return match === null ? null : Number(match[1])
}

async function healthy (): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/api/health`, { signal: AbortSignal.timeout(500) })).ok
  } catch {
    return false
  }
}

// The embedded database: what a fresh clone starts on.
const { DATABASE_URL: _ignored, ...embedded } = process.env

async function startOnce (dataDir: string): Promise<{ seconds: number, cpuSeconds: number }> {
  const t0 = performance.now()
  const child = spawn('npm', ['start', '--silent'], {
    cwd: root,
    detached: true,
    stdio: 'ignore',
    env: { ...embedded, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', SESSION_SECRET: 'start-bench-secret-start-bench-secret-01' }
  })
  try {
    while (!(await healthy())) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`)
      if (performance.now() - t0 > 60000) throw new Error('not healthy after 60 s')
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    const seconds = (performance.now() - t0) / 1000
    const pid = listener()
    return { seconds, cpuSeconds: pid === null ? NaN : cpuMicros(pid) / 1e6 }
  } finally {
    if (child.exitCode === null) {
      process.kill(-(child.pid as number), 'SIGTERM')
      await new Promise(resolve => child.once('exit', resolve))
    }
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'start-bench-'))
const results: Array<{ seconds: number, cpuSeconds: number }> = []
console.log(`load average at start: ${loadavg()[0]?.toFixed(2)} (2 cores; above 1, the wall times include waiting for a core)`)
try {
  for (let i = 0; i < runs; i++) {
    const result = await startOnce(dataDir)
    results.push(result)
    console.log(`start ${i + 1}${i === 0 ? ' (empty data folder: migrations)' : ''}: healthy after ${result.seconds.toFixed(2)} s, server CPU ${result.cpuSeconds.toFixed(2)} s`)
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
const sorted = results.map(r => r.seconds).sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)] as number
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
console.log(`median: ${median.toFixed(2)} s to healthy (version ${version}); floor ${floorSeconds} s`)
if (median > floorSeconds) {
  console.log(`FLOOR MISSED: npm start took ${median.toFixed(2)} s (median) to answer health`)
  process.exitCode = 1
}
