// Runs before `npm start`, `npm run migrate` and `npm run make-admin`: compiles
// src/ only when a source file is newer than the last build, so a start after
// `npm ci` (whose `prepare` script builds) or an unchanged checkout costs one
// directory walk, not a TypeScript compile (about 10 s on a small host).
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const built = join(root, 'dist/server.js')

function newestMtime (path) {
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

function builtAt () {
  try { return statSync(built).mtimeMs } catch { return -1 }
}

const sources = ['src', 'tsconfig.json', 'tsconfig.build.json'].map(p => newestMtime(join(root, p)))
if (Math.max(...sources) > builtAt()) {
  process.stderr.write('build-if-stale: sources changed since the last build; compiling\n')
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  // tsc writes the output even with type errors; a failed compile must still stop the start.
  if (tsc.status !== 0) process.exit(tsc.status ?? 1)
}
