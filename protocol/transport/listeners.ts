/** Tiny listener set shared by the transports (onData / onClose bookkeeping). */
export class Listeners<A extends unknown[]> {
  private readonly set = new Set<(...args: A) => void>();

  add(listener: (...args: A) => void): () => void {
    // Wrap so the same function can subscribe twice and unsubscribe independently.
    const entry = (...args: A): void => listener(...args);
    this.set.add(entry);
    return () => {
      this.set.delete(entry);
    };
  }

  emit(...args: A): void {
    for (const l of [...this.set]) l(...args);
  }

  get size(): number {
    return this.set.size;
  }
}
