/** Removes the containers a previous run of the same owner left behind (found by label). */
import type Docker from "dockerode";
import type { Logger } from "pino";
import { LABELS } from "./container-spec.js";

export class OrphanReaper {
  constructor(
    private readonly docker: Docker,
    private readonly owner: string,
    private readonly logger: Logger,
  ) {}

  /** Removes containers of this owner other than `keep` (ids). Returns how many. */
  async reap(keep: ReadonlySet<string>): Promise<number> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABELS.managed}=true`, `${LABELS.owner}=${this.owner}`] }),
    });
    const orphans = list.filter((c) => !keep.has(c.Id));
    await Promise.all(orphans.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    if (orphans.length > 0) this.logger.info({ count: orphans.length }, "reaped containers left by a previous run");
    return orphans.length;
  }
}
