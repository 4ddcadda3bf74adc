/**
 * `router.openapi.include` / `exclude`: which operations become tools. Within one filter every
 * field that is given must match (tags AND paths AND methods AND operations); within a field any
 * listed value matches. An operation is served when it matches `include` (or there is none) and
 * does not match `exclude`.
 */
import type { OpenApiFilter } from "../../registry/types.js";

export interface OperationFacts {
  method: string;
  /** The path template as written in the document, e.g. `/pets/{petId}`. */
  path: string;
  tags: readonly string[];
  operationId: string | undefined;
  /** The tool name it gets (filters accept it as well as the operationId). */
  toolName: string;
}

export function operationSelected(op: OperationFacts, include: OpenApiFilter | undefined, exclude: OpenApiFilter | undefined): boolean {
  if (include && !matchesFilter(op, include)) return false;
  if (exclude && hasCriteria(exclude) && matchesFilter(op, exclude)) return false;
  return true;
}

function hasCriteria(filter: OpenApiFilter): boolean {
  return [filter.tags, filter.paths, filter.methods, filter.operations].some((list) => list !== undefined);
}

export function matchesFilter(op: OperationFacts, filter: OpenApiFilter): boolean {
  if (filter.tags && !filter.tags.some((t) => op.tags.includes(t))) return false;
  if (filter.methods && !filter.methods.some((m) => m.toLowerCase() === op.method)) return false;
  if (filter.operations && !filter.operations.some((id) => id === op.operationId || id === op.toolName)) return false;
  if (filter.paths && !filter.paths.some((glob) => pathMatches(glob, op.path))) return false;
  return true;
}

/** `*` matches one path segment, `**` any number of segments (none included); other segments match literally. */
export function pathMatches(glob: string, path: string): boolean {
  const pattern = segments(glob);
  const target = segments(path);
  const match = (i: number, j: number): boolean => {
    if (i === pattern.length) return j === target.length;
    const part = pattern[i];
    if (part === "**") {
      for (let k = j; k <= target.length; k += 1) if (match(i + 1, k)) return true;
      return false;
    }
    if (j === target.length) return false;
    return (part === "*" || part === target[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}
