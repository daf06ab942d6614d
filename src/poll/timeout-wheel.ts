/** Something held until a deadline. */
export interface Expiring {
  /** The wheel's slot while held; 0 when in none. */
  slot: number
  expire: () => void
}

/**
 * One timer for every held poll instead of one each: deadlines are rounded up
 * to the next slot (a poll asked to wait 25 s waits at most one slot longer),
 * and a poll answered early leaves its slot's set at once. The timer runs only
 * while something is held, and never keeps the process alive.
 */
export class TimeoutWheel<T extends Expiring> {
  private readonly slots = new Map<number, Set<T>>()
  private timer: NodeJS.Timeout | null = null
  /** The last slot whose polls have expired. */
  private done: number

  constructor (private readonly slotMs: number, now = Date.now()) {
    this.done = Math.floor(now / slotMs)
  }

  add (item: T, timeoutMs: number, now = Date.now()): void {
    // Nothing was held while the timer was off: no passed slot is left to look at.
    if (this.timer === null) this.done = Math.max(this.done, Math.floor(now / this.slotMs))
    const slot = Math.max(Math.ceil((now + timeoutMs) / this.slotMs), this.done + 1)
    let set = this.slots.get(slot)
    if (set === undefined) {
      set = new Set()
      this.slots.set(slot, set)
    }
    set.add(item)
    item.slot = slot
    if (this.timer === null) {
      this.timer = setInterval(() => { this.tick() }, this.slotMs)
      this.timer.unref()
    }
  }

  remove (item: T): void {
    const slot = item.slot
    item.slot = 0
    const set = this.slots.get(slot)
    if (set === undefined) return
    set.delete(item)
    if (set.size === 0) this.slots.delete(slot)
  }

  get size (): number {
    let n = 0
    for (const set of this.slots.values()) n += set.size
    return n
  }

  /** Expires everything whose slot has passed. */
  tick (now = Date.now()): void {
    const current = Math.floor(now / this.slotMs)
    for (let slot = this.done + 1; slot <= current; slot++) {
      const set = this.slots.get(slot)
      if (set === undefined) continue
      this.slots.delete(slot)
      for (const item of set) {
        item.slot = 0
        item.expire()
      }
    }
    this.done = Math.max(this.done, current)
    if (this.slots.size === 0 && this.timer !== null) {
      clearInterval(this.timer)
      this.timer = null
    }
  }
}
