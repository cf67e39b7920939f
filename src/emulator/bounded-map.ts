/**
 * A least-recently-used map with a cap on entries and, optionally, on total weight.
 * Every cache in the emulator goes through it so that a long benchmark run cannot grow memory without end.
 */
export interface BoundedMapLimits<K, V> {
  maxEntries: number;
  /** Upper bound on the summed weight of all entries; unbounded when omitted. */
  maxWeight?: number;
  weigh?: (key: K, value: V) => number;
}

interface Slot<V> {
  value: V;
  weight: number;
}

export class BoundedMap<K, V> {
  readonly #slots = new Map<K, Slot<V>>();
  readonly #limits: BoundedMapLimits<K, V>;
  #weight = 0;

  constructor(limits: BoundedMapLimits<K, V>) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Reads an entry and marks it most recently used. */
  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    // Re-inserting moves the key to the end of the Map's insertion order, which is the LRU order.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.#limits.weigh?.(key, value) ?? 0;
    this.#slots.set(key, { value, weight });
    this.#weight += weight;
    this.#evict();
  }

  delete(key: K): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#weight -= slot.weight;
  }

  clear(): void {
    this.#slots.clear();
    this.#weight = 0;
  }

  #evict(): void {
    const maxWeight = this.#limits.maxWeight ?? Number.POSITIVE_INFINITY;
    // Keep the newest entry even when it alone is over the weight limit; callers asked for it.
    while (this.#slots.size > 1 && (this.#slots.size > this.#limits.maxEntries || this.#weight > maxWeight)) {
      const oldest = this.#slots.keys().next();
      if (oldest.done === true) return;
      this.delete(oldest.value);
    }
  }
}
