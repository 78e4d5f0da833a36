// A bounded set that forgets its least recently seen entries first: the MQTT
// uplink's memory of frame ids (so a frame does not loop between the radio and
// the broker) without growing for ever.

export class LruSet<K> {
  private readonly map = new Map<K, true>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Adds `key` (or refreshes it); returns true when it was not there before. Evicts the oldest entry when full. */
  add(key: K): boolean {
    const had = this.map.delete(key);
    this.map.set(key, true);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
    return !had;
  }
}
