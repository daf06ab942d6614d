import type { ChildProcess } from 'node:child_process'

// A bench that dies half-way must not leave a server holding 10,000 sockets or
// a stray database behind, so everything it starts is registered here.
const children = new Set<ChildProcess>()
const tasks: Array<() => Promise<void>> = []
let running: Promise<void> | null = null

export function trackChild (child: ChildProcess): void {
  children.add(child)
  child.once('exit', () => children.delete(child))
}

/** Registers an async undo step (dropping a database, removing a folder); run last-in first-out. */
export function onCleanup (task: () => Promise<void>): void {
  tasks.push(task)
}

function killChildren (): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

/** Kills the servers, then runs the undo steps; safe to call more than once. */
export async function cleanup (): Promise<void> {
  running ??= (async () => {
    const waits = [...children].map(child => new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once('exit', () => resolve())
    }))
    killChildren()
    await Promise.all(waits)
    for (const task of tasks.reverse()) {
      try {
        await task()
      } catch (err) {
        console.error('cleanup step failed:', (err as Error).message)
      }
    }
  })()
  await running
}

/**
 * Runs `main`, always cleaning up, and turns its result into the exit code.
 * Ctrl-C and SIGTERM clean up too; the `exit` hook is the last resort that
 * still kills the children synchronously if something exits the process early.
 */
export function runMain (main: () => Promise<number>): void {
  process.on('exit', killChildren)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping servers and cleaning up`)
      cleanup().finally(() => process.exit(130))
    })
  }
  main().then(
    async code => {
      await cleanup()
      process.exit(code)
    },
    async (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err)
      await cleanup()
      process.exit(2)
    }
  )
}
