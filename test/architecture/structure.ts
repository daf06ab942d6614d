import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

/*
 * The house rules a reader can check: no import cycles in src/, no file over
 * 250 lines, no function over 60. `npx tsx test/architecture/structure.ts`
 * prints what breaks them; test/architecture/structure.test.ts holds the line.
 */

export const maxFileLines = 250
export const maxFunctionLines = 60

const srcDir = resolve(import.meta.dirname, '../../src')

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [])
}

/** Relative imports (type-only ones too: they still tie modules together) as a graph of src/ files. */
function importGraph (dir: string): Map<string, string[]> {
  const name = (file: string): string => relative(dir, file)
  const files = sourceFiles(dir)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    graph.set(name(file), info.importedFiles.map(i => i.fileName).filter(f => f.startsWith('.'))
      .map(f => name(resolve(dirname(file), f.replace(/\.js$/, '.ts')))))
  }
  return graph
}

export function cycles (dir = srcDir): string[][] {
  const graph = importGraph(dir)
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (node: string): void => {
    state.set(node, 'open')
    path.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    path.pop()
    state.set(node, 'done')
  }
  for (const node of graph.keys()) if (!state.has(node)) visit(node)
  return found
}

export function longFiles (): string[] {
  return sourceFiles(srcDir).filter(f => readFileSync(f, 'utf8').trimEnd().split('\n').length > maxFileLines).map(f => relative(srcDir, f))
}

/** Functions, methods and arrow functions longer than the limit, as `file:line name (n lines)`. */
export function longFunctions (): string[] {
  const out: string[] = []
  for (const file of sourceFiles(srcDir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
        const label = 'name' in node && node.name !== undefined ? (node.name as ts.Node).getText(source) : '(anonymous)'
        if (end - start + 1 > maxFunctionLines) out.push(`${relative(srcDir, file)}:${start + 1} ${label} (${end - start + 1} lines)`)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  return out
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  console.log('cycles:', cycles().map(c => c.join(' -> ')))
  console.log(`files over ${maxFileLines} lines:`, longFiles())
  console.log(`functions over ${maxFunctionLines} lines:`, longFunctions())
}
