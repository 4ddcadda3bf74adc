/**
 * The words the environment model reads documentation by: what says required, optional or
 * conditional, which mode (HTTP/SSE, hosted, development, migration notes) a heading or a line
 * speaks of, and the headings and intros that frame a list of variables. Shared by the README and
 * `.env.example` readers.
 */
import type { EnvMode } from "./env-findings.js";

const OPTIONAL_WORDS = /\boptional\b|\bunless you set\b|\bopt[- ](out|in)\b|\(optional\)|\bdefaults? (to|is)\b|\bdefault:|\bif not (set|provided)\b|\bnot required\b|\boverride\b|\bto (enable|disable)\b|\bset (it )?to `?(true|false)/i;
const REQUIRED_WORDS = /\*\*required\*\*|\(required\)|\brequired\b|\bmandatory\b|\bmust (be )?(set|provide|have)|\byou(?:'ll| will)? (need|must|have) to\b|\byou (need|must)\b/i;
/** "required when ...", "if you use X you must ...": a conditional need is optional for the default mode. */
const CONDITIONAL_WORDS = /\b(required|needed|must)\b[^.]{0,12}\b(when|if|for|only)\b|\b(if|when|in order to|only if|to use|to enable)\b[^.]{0,80}\b(must|required|need)\b/i;
/**
 * "required for the cloud API": the vendor's hosted service is the default deployment (a self-hosted
 * instance is the alternative), so that condition holds in the default mode and is no condition.
 */
const DEFAULT_DEPLOYMENT = /\b(for|with|on|when using) (the )?(cloud|hosted|managed|saas)( (api|service|version|platform|offering))?\b/gi;
const unconditional = (s: string) => s.replace(DEFAULT_DEPLOYMENT, "");
export const requiredText = (s: string) => REQUIRED_WORDS.test(s) && !OPTIONAL_WORDS.test(s) && !CONDITIONAL_WORDS.test(unconditional(s));
export const optionalText = (s: string) => OPTIONAL_WORDS.test(s) || CONDITIONAL_WORDS.test(unconditional(s));
export const ALTERNATIVE_WORDS = /\b(instead of|alternative(ly)? to|alternatively|either|one of|or use|or set|or\s+`)/i;

/** "These variables can also be set as arguments", "can be passed as command-line flags". */
export const ARGUMENT_INTRO = /\bcan (also )?be (set|passed|given|provided|specified) (as|via|with|using|through) (command[- ]line )?(arguments|flags|options|cli arguments)\b/i;

/** A heading of migration notes: the names there are an older version's ("Migrating from the Node.js server"). */
export const LEGACY_HEADING = /\b(migrat(e|ing|ion)|upgrad(e|ing) from|legacy|changelog|breaking changes)\b/i;
/** Running the MCP server as a service of one's own (not a self-hosted instance of the product it talks to). */
export const SELF_HOSTING_THE_SERVER = /\bself[- ]host(ing|ed)? (the|this|your own) (mcp )?server\b/i;

/** A heading that titles the reference of the server's variables. */
export const REFERENCE_HEADING = /^(\W*\s*)?(environment variables|env(ironment)? vars|configuration (options|variables|reference)|(all )?config(uration)? settings)$/i;

/** The mode a README heading (or line) speaks of. */
export function modeOf(text: string): EnvMode | undefined {
  if (/\b(develop(ment|ing|er)?|contribut\w*|testing|tests?|debug(ging)?|evals?|build(ing)? from source|local dev\w*|running (the )?tests)\b/i.test(text)) return "dev";
  if (/\b(streamable[- ]http|http (mode|transport|server)|sse (mode|transport)|(for|with|using|over) (the )?(http|sse)\b|remote (mcp )?(mode|deployment|server)|hosted (deployment|service|version)|deploy(ment|ing)?|multi-user|oauth (proxy|server)|kubernetes deployment|docker compose|server[- ]side)\b/i.test(text)) return "http";
  return undefined;
}

/**
 * Whether one README line speaks of the HTTP/SSE mode or a hosted deployment. Narrower than a
 * heading's mode: a line describing what a setting does ("disable server-side JS", "deployment
 * name", "debug logging", "flaky test details") names a feature, not the mode the variable belongs
 * to, so only phrases that name a transport or a remote deployment count; a line never sets `dev`.
 */
export function lineIsHttpOnly(line: string): boolean {
  // Code spans are names (`HTTP_PORT`) unless they hold a lower-case value (`'http'`, `sse`).
  const text = line.replace(/`([^`]*)`/g, (_, c: string) => (/^['"]?[a-z-]+['"]?$/.test(c) ? c : ""));
  return /\b(streamable[- ]http|(http|sse) (mode|transport|server)|(for|with|using|over|in) (the )?(http|sse)\b|remote (mcp )?(mode|deployment|server)|hosted (deployment|service|version)|multi-user|oauth (proxy|server))|\btransport is ['"]?(streamable-)?(http|sse)\b/i.test(text);
}
