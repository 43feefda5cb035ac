/**
 * What a service must have done before it reports SERVING, beyond reaching its store and broker
 * (seeded reference data, loaded rule sets). A probe then only sends traffic to a replica that can
 * answer it.
 */
export class Readiness {
  private readonly pending = new Set<string>();
  private readonly listeners = new Set<() => void>();

  hold(what: string, until: Promise<unknown>): void {
    this.pending.add(what);
    void until.then(
      () => {
        this.pending.delete(what);
        for (const listener of this.listeners) listener();
      },
      () => undefined,
    );
  }

  get ready(): boolean {
    return this.pending.size === 0;
  }

  /** What is still awaited, for logs. */
  get waitingFor(): string[] {
    return [...this.pending];
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }
}
