import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cycles, longFiles, longFunctions } from './structure.js'

// Nothing breaks the limits today; a name listed here would be a known exception, to be split
const knownLongFiles: string[] = []
const knownLongFunctions: string[] = []

t.test('src/ has no import cycle', async t => {
  t.same(cycles(), [])
})

t.test('the cycle check finds a cycle', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-cycle-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.js'\nexport type A = B\n")
  writeFileSync(join(dir, 'b.ts'), "import { a } from './a.js'\nexport type B = typeof a\n")
  t.same(cycles(dir), [['a.ts', 'b.ts', 'a.ts']])
})

t.test('no new file over 250 lines, no new function over 60', async t => {
  t.same(longFiles().filter(f => !knownLongFiles.includes(f)), [])
  const functions = longFunctions().map(f => f.replace(/:\d+ /, ' ').replace(/ \(\d+ lines\)$/, ''))
  t.same(functions.filter(f => !knownLongFunctions.includes(f)), [])
})
