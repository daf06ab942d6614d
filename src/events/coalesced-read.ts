const ignore = (): void => {}

/**
 * One database read shared by every caller that asks while it is pending, so
 * a burst of callers (thousands of clients loading the page after a deploy,
 * each polling without a cursor) costs a few queries instead of one each, and
 * no pooled connection queue fills up with the same question.
 *
 * A caller never joins a read that is already under way: it may have been
 * sent before the caller asked, and so miss a commit the caller has already
 * seen. Such callers share the next read, which starts when the current one ends.
 */
export class CoalescedRead<T> {
  private running: Promise<T> | null = null
  private queued: Promise<T> | null = null

  constructor (private readonly read: () => Promise<T>) {}

  async get (): Promise<T> {
    if (this.running === null) return await this.begin()
    this.queued ??= this.running.then(ignore, ignore).then(async () => {
      this.queued = null
      return await this.begin()
    })
    return await this.queued
  }

  private async begin (): Promise<T> {
    const read = this.read().finally(() => {
      if (this.running === read) this.running = null
    })
    this.running = read
    return await read
  }
}
