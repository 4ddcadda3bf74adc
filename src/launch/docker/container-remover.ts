/**
 * Removes containers off the caller's path and keeps count, so that closing can wait for every
 * removal; a container's slot is given back only once it is gone.
 */
import type Docker from "dockerode";
import type { Logger } from "pino";

export class ContainerRemover {
  private readonly removals = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Removals still in flight. */
  get pending(): number {
    return this.removals.size;
  }

  /** Force-removes the container (a missing one counts as removed), then calls `removed`. */
  remove(container: Docker.Container, removed: () => void): void {
    const removal = container
      .remove({ force: true })
      .catch((error: { statusCode?: number; message?: string }) => {
        if (error.statusCode !== 404 && error.statusCode !== 409) this.logger.warn({ container: container.id.slice(0, 12), err: error.message }, "container removal failed");
      })
      .finally(() => {
        this.removals.delete(removal);
        removed();
      });
    this.removals.add(removal);
  }

  /** Resolves once the removals in flight now have finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.removals]);
  }
}
