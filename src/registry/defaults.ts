/**
 * The limits a server runs with when its file sets none (`router.limits`). The launchers apply
 * them; the privilege summary and the proposer compare a file's limits against them, so a
 * reviewer sees every limit raised above them. One source for both sides.
 */
export interface ResourceDefaults {
  memory: string;
  cpus: number;
  pids: number;
  tmpfs: string;
  timeoutSeconds: number;
}

export const DEFAULT_RESOURCES: Readonly<ResourceDefaults> = { memory: "512m", cpus: 1, pids: 128, tmpfs: "64m", timeoutSeconds: 60 };
