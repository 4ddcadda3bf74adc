/**
 * Sends one planned request with undici (timeouts, abort, a response size limit) and turns the
 * response into a tool result: 2xx JSON as text (and `structuredContent` when it is an object),
 * other text as text, images as images, other binary as an embedded resource; non-2xx and
 * network failures as `isError` results that say what happened. Secret values are scrubbed
 * from everything returned.
 */
import { STATUS_CODES } from "node:http";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Dispatcher } from "undici";
import { request } from "undici";
import type { HttpRequestPlan } from "./openapi-request.js";
import { describeNetworkError } from "./openapi-spec.js";
import { scrubSecrets } from "../../secrets/secret-scrubber.js";

/** Characters of an error response's body put in the result. */
export const ERROR_EXCERPT_CHARS = 2048;

export interface HttpLimits {
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface HttpOutcome {
  result: CallToolResult;
  /** HTTP status, or undefined when no response arrived. */
  status: number | undefined;
  bytes: number;
}

export async function sendRequest(plan: HttpRequestPlan, limits: HttpLimits, secretValues: readonly string[], signal: AbortSignal, dispatcher?: Dispatcher): Promise<HttpOutcome> {
  const shown = `${plan.method} ${shownUrl(plan.url, secretValues)}`;
  const scrub = (text: string): string => scrubSecrets(text, secretValues);
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const combined = AbortSignal.any([signal, deadline]);
  let response: Dispatcher.ResponseData;
  try {
    response = await request(plan.url, {
      method: plan.method as Dispatcher.HttpMethod,
      headers: plan.headers,
      body: plan.body,
      headersTimeout: limits.timeoutMs,
      bodyTimeout: limits.timeoutMs,
      signal: combined,
      ...(dispatcher ? { dispatcher } : {}),
    });
  } catch (error) {
    return { result: failure(scrub(failureText(error, shown, limits, signal, deadline))), status: undefined, bytes: 0 };
  }
  const contentType = headerValue(response.headers["content-type"]);
  const body = await readLimited(response.body, limits.maxResponseBytes).catch((error: unknown) => ({ error }));
  if ("error" in body) return { result: failure(scrub(failureText(body.error, shown, limits, signal, deadline, response.statusCode))), status: response.statusCode, bytes: 0 };
  const status = `HTTP ${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ""}`.trim();
  const declared = Number(headerValue(response.headers["content-length"]) ?? Number.NaN);
  const cutNote = body.cut ? `\n[response cut at ${limits.maxResponseBytes} bytes${Number.isFinite(declared) ? ` of ${declared}` : ""}: router.openapi.maxResponseBytes]` : "";

  if (response.statusCode < 200 || response.statusCode > 299) {
    const excerpt = textOf(body.bytes).slice(0, ERROR_EXCERPT_CHARS);
    const more = body.bytes.length > ERROR_EXCERPT_CHARS || body.cut ? "\n[body excerpt; the rest was cut]" : "";
    const location = response.statusCode >= 300 && response.statusCode < 400 ? headerValue(response.headers.location) : undefined;
    const redirect = location ? `\nLocation: ${location} (redirects are not followed: set router.openapi.baseUrl to the final address)` : "";
    return { result: failure(scrub(`${status} from ${shown}${redirect}${excerpt ? `\n${excerpt}${more}` : ""}`)), status: response.statusCode, bytes: body.bytes.length };
  }

  const result = successResult(body.bytes, contentType, body.cut, cutNote, status, shown, plan.url, secretValues);
  return { result, status: response.statusCode, bytes: body.bytes.length };
}

function successResult(bytes: Buffer, contentType: string | undefined, cut: boolean, cutNote: string, status: string, shown: string, url: URL, secretValues: readonly string[]): CallToolResult {
  const scrub = (text: string): string => scrubSecrets(text, secretValues);
  if (bytes.length === 0) return { content: [{ type: "text", text: `${status} from ${shown} (empty body)` }] };
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (/^application\/(.+\+)?json$/.test(type) || (type === "" && looksLikeJson(bytes))) {
    const text = scrub(textOf(bytes));
    if (!cut) {
      try {
        const value = JSON.parse(text) as unknown;
        const structured = value !== null && typeof value === "object" && !Array.isArray(value) ? { structuredContent: value as Record<string, unknown> } : {};
        return { content: [{ type: "text", text }], ...structured };
      } catch {
        // served as JSON but is not: return it as text
      }
    }
    return { content: [{ type: "text", text: `${text}${cutNote}` }] };
  }
  if (isTextual(type, bytes)) return { content: [{ type: "text", text: `${scrub(textOf(bytes))}${cutNote}` }] };
  const description = `${status} from ${shown}: ${bytes.length} bytes of ${type || "binary data"}`;
  if (cut) return { content: [{ type: "text", text: `${description}${cutNote}; not returned` }] };
  if (type.startsWith("image/")) return { content: [{ type: "image", data: bytes.toString("base64"), mimeType: type }, { type: "text", text: description }] };
  return {
    content: [
      { type: "text", text: description },
      { type: "resource", resource: { uri: shownUrl(url, secretValues), mimeType: type || "application/octet-stream", blob: bytes.toString("base64") } },
    ],
  };
}

function failure(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

function failureText(error: unknown, shown: string, limits: HttpLimits, caller: AbortSignal, deadline: AbortSignal, status?: number): string {
  const code = (error as { code?: string }).code;
  const during = status === undefined ? "" : ` while reading the HTTP ${status} response`;
  if (deadline.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return `${shown} timed out after ${limits.timeoutMs / 1000} s${during}. Raise router.openapi.timeoutSeconds if the API needs longer.`;
  }
  if (caller.aborted) return `${shown} was cancelled${during}.`;
  return `${shown} failed${during}: ${describeNetworkError(error)}. Check router.openapi.baseUrl (or the spec's servers) and that the API is reachable from the daemon.`;
}

/** The URL with auth query values masked (never shown to the model or logged). */
export function shownUrl(url: URL, secretValues: readonly string[]): string {
  const copy = new URL(url.href);
  for (const [k, v] of [...copy.searchParams]) if (secretValues.includes(v)) copy.searchParams.set(k, "***");
  return scrubSecrets(copy.href.replace(/%2A%2A%2A/g, "***"), secretValues);
}

async function readLimited(body: Dispatcher.ResponseData["body"], max: number): Promise<{ bytes: Buffer; cut: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    const room = max - size;
    if (chunk.length >= room) {
      chunks.push(chunk.subarray(0, room));
      size += room;
      cut = chunk.length > room;
      if (cut) break;
      continue;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  if (cut) body.destroy();
  return { bytes: Buffer.concat(chunks, size), cut };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function textOf(bytes: Buffer): string {
  return bytes.toString("utf8");
}

function looksLikeJson(bytes: Buffer): boolean {
  const first = bytes.subarray(0, 64).toString("utf8").trimStart()[0];
  return first === "{" || first === "[";
}

function isTextual(type: string, bytes: Buffer): boolean {
  if (type.startsWith("text/") || /[/+](xml|json|yaml|csv|javascript|x-www-form-urlencoded|html)$/.test(type)) return true;
  if (type !== "" && type !== "application/octet-stream") return false;
  return !bytes.subarray(0, 1024).includes(0);
}
