import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

/**
 * Resident set size of a process in bytes, read from /proc. This is the
 * cross-check of the server's own `rss` figure: it costs the server nothing
 * and still works when the stats route is missing or the server is stuck.
 */
export function rssBytes (pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
    return match?.[1] === undefined ? NaN : Number(match[1]) * 1024
  } catch {
    return NaN
  }
}

// Linux reports utime/stime in clock ticks; USER_HZ is 100 on every kernel
// this project targets, and asking getconf once is cheap insurance.
let ticksPerSecond = 100
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
} catch { /* keep 100 */ }

/** User+system CPU of a process (or `pid/task/tid`, one thread) in microseconds, from /proc/<pid>/stat. */
export function cpuMicros (pid: number | string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: split
    // after its closing parenthesis, where field 3 begins.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return (utime + stime) * 1e6 / ticksPerSecond
  } catch {
    return NaN
  }
}

/** This process's own CPU (the load generator), in microseconds. */
export function selfCpuMicros (): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

/**
 * The soft limit on open files. Node cannot raise it, and a load generator
 * that runs out of descriptors fails with confusing ECONNRESET/EMFILE noise,
 * so it is checked up front. The child server inherits the same limit.
 */
export function openFileLimit (): number {
  try {
    const out = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Infinity : Number(out)
  } catch {
    return NaN
  }
}

export function checkFileLimit (needed: number): void {
  const limit = openFileLimit()
  if (Number.isFinite(limit) && limit < needed) {
    throw new Error(
      `open-file limit is ${limit} but this run needs about ${needed} descriptors ` +
      '(one socket per held poll in this process and another in the server). ' +
      `Raise it in the shell first, e.g. \`ulimit -n ${Math.max(needed, 20000)}\`, or pass fewer --polls.`
    )
  }
}
