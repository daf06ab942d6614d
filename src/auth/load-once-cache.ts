/**
 * A cache whose entries are loaded once per key, however many requests ask at
 * the same moment (a thousand polls waking together cause one query), and kept
 * until dropped or unused for `idleMs`. Dropping entries while a load is in
 * flight keeps that load's possibly stale result out of the cache, and out of
 * the answers to requests that come after the drop.
 */
export class LoadOnceCache<K, V> {
  private readonly entries = new Map<K, { value: V, usedAt: number }>()
  private readonly loading = new Map<K, Promise<V | undefined>>()
  private generation = 0

  constructor (private readonly idleMs: number) {}

  /** The cached value, without loading (polls answer from memory when they can). */
  peek (key: K): V | undefined {
    const hit = this.entries.get(key)
    if (hit === undefined) return undefined
    hit.usedAt = Date.now()
    return hit.value
  }

  async get (key: K, load: (key: K) => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.peek(key)
    if (hit !== undefined) return hit
    let pending = this.loading.get(key)
    if (pending === undefined) {
      const generation = this.generation
      const loading: Promise<V | undefined> = load(key).then(value => {
        if (value !== undefined && generation === this.generation) this.entries.set(key, { value, usedAt: Date.now() })
        return value
      }).finally(() => { if (this.loading.get(key) === loading) this.loading.delete(key) })
      pending = loading
      this.loading.set(key, pending)
    }
    return await pending
  }

  deleteWhere (match: (key: K, value: V) => boolean): void {
    this.generation++
    // A request from now on must not join a load that began before (it may
    // return a session revoked since): loads in flight serve only those already waiting.
    this.loading.clear()
    for (const [key, entry] of this.entries) if (match(key, entry.value)) this.entries.delete(key)
  }

  evictIdle (now = Date.now()): void {
    for (const [key, entry] of this.entries) if (now - entry.usedAt > this.idleMs) this.entries.delete(key)
  }
}
