/**
 * The README reader of the environment model: tables (with their header columns), lists, prose and
 * config snippets, with headings, intro lines and sections setting the verdict and the mode of what
 * follows; alternatives written as "one of these options" lists; unmarked items among optional ones.
 */
import { acceptableName, evidenceRef as ref, ONE_WORD, type EnvCollector, type EnvMode, type SignalKind } from "./env-findings.js";
import type { EvidenceFile } from "./evidence.js";
import { ALTERNATIVE_WORDS, ARGUMENT_INTRO, LEGACY_HEADING, lineIsHttpOnly, modeOf, optionalText, REFERENCE_HEADING, requiredText, SELF_HOSTING_THE_SERVER } from "./env-words.js";
import { codeBlocks } from "./run-commands.js";

/**
 * README: tables (with their header columns), lists, prose and config snippets. Headings set the
 * verdict ("Required variables") and the mode ("HTTP transport", "Development") of what follows.
 */
export function envFromReadme(file: EvidenceFile, into: EnvCollector): void {
  const lines = file.text.split("\n");
  const inBlock = new Map<number, { lang: string; start: number }>();
  for (const b of codeBlocks(file.text)) {
    const n = b.text.split("\n").length;
    for (let j = 0; j < n; j++) inBlock.set(b.line + j, { lang: b.lang, start: b.line });
  }
  const headings: { level: number; text: string }[] = [];
  let header: string[] | undefined;
  const items: { indent: number; http: boolean; documents?: string }[] = [];
  const modes = new Map<number, EnvMode>();
  const examples = exampleSections(lines, inBlock);
  let introHttp = false;
  let flagsIntro = false;
  let lastWasRowOrItem = false;
  let section = 0;
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h && !inBlock.has(lineNo)) {
      const level = h[1]!.length;
      while (headings.length && headings[headings.length - 1]!.level >= level) headings.pop();
      headings.push({ level, text: h[2] ?? "" });
      header = undefined;
      items.length = 0;
      section = lineNo;
      flagsIntro = false;
      return;
    }
    const headingText = headings.map((x) => x.text).join(" / ");
    const lastHeading = headings[headings.length - 1]?.text ?? "";
    let mode: EnvMode = "default";
    // The document's title names the product ("Pinecone Developer MCP Server"), not a mode.
    // A heading that titles the reference of variables ("Environment Variables") starts afresh: such a
    // reference is often filed under "Development" next to the build steps, but documents the server's
    // own settings; its sub-headings ("HTTP transport", "Running tests") still set their modes.
    for (const x of headings) if (x.level > 1) mode = LEGACY_HEADING.test(x.text) ? "legacy" : (modeOf(x.text) ?? (REFERENCE_HEADING.test(x.text.trim()) ? "default" : mode));
    // A nested list item belongs to its parent item: "* `X`: token for HTTP/SSE transports" then
    // "  * leave `X` unset in this mode" speaks of the same mode.
    const item = /^(\s*)([-*+]|\d+\.)\s/.exec(line);
    if (item && !inBlock.has(lineNo)) {
      const indent = item[1]!.length;
      while (items.length && items[items.length - 1]!.indent >= indent) items.pop();
      // The variable an item documents: the name it starts with ("* `X`: ...", "- **`X`** - ...").
      const documents = /^\s*(?:[-*+]|\d+\.)\s+(?:\*\*)?`([A-Za-z][A-Za-z0-9_]+)`/.exec(line)?.[1];
      items.push({ indent, http: lineIsHttpOnly(line) || items.some((x) => x.http), ...(documents ? { documents } : {}) });
    } else if (line.trim() && !/^\s/.test(line) && !inBlock.has(lineNo)) items.length = 0;
    // In prose, the sentences that name a variable say its mode ("Metrics are exported unless you set
    // `X=true`. On remote deployments, ..." does not make X remote-only).
    const prose = !item && !line.trim().startsWith("|") && !inBlock.has(lineNo);
    const modeText = prose ? line.split(/(?<=[.!?])\s+(?=[A-Z])/).filter((x) => /[A-Z][A-Z0-9]*_[A-Z0-9_]+/.test(x)).join(" ") || line : line;
    if (examples.has(section) && mode === "default") mode = "dev";
    // "These variables can also be set as arguments": the list that follows names flags' alternatives.
    if (prose && line.trim()) flagsIntro = ARGUMENT_INTRO.test(line) ? true : /:\s*$/.test(line) ? false : flagsIntro;
    // A line that introduces a table or list ("Self-hosting the server itself:") gives it its mode.
    const rowOrItem = !!item || line.trim().startsWith("|");
    if (prose && line.trim()) introHttp = /:\s*$/.test(line) && (lineIsHttpOnly(line) || SELF_HOSTING_THE_SERVER.test(line));
    else if (!line.trim() && lastWasRowOrItem) introHttp = false;
    lastWasRowOrItem = rowOrItem;
    if (lineIsHttpOnly(modeText) || (item && items[items.length - 1]?.http) || (rowOrItem && introHttp)) mode = "http";
    modes.set(lineNo, mode);
    const headingVerdict = /\brequired\b/i.test(lastHeading) && !/optional/i.test(lastHeading) ? "required" : /\boptional\b/i.test(lastHeading) ? "optional" : undefined;
    const envSection = /env|config|setup|auth|credential|api key|token|variable|usage|install|option/i.test(headingText);

    const block = inBlock.get(lineNo);
    const names = new Set<string>();
    for (const m of line.matchAll(/`([A-Za-z][A-Za-z0-9_]{2,})`/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:^|[\s"'`(])(?:export\s+|set\s+|\$env:)?([A-Z][A-Z0-9_]{2,})=/g)) names.add(m[1]!);
    for (const m of line.matchAll(/(?:-e|--env)[\s=]+["']?([A-Za-z][A-Za-z0-9_]{2,})/g)) names.add(m[1]!);
    for (const m of line.matchAll(/"([A-Za-z][A-Za-z0-9_]{2,})"\s*:/g)) names.add(m[1]!);
    for (const m of line.matchAll(/"-e",\s*"([A-Z][A-Z0-9_]{2,})/g)) names.add(m[1]!);
    if (block) for (const m of line.matchAll(/^\s*(?:#\s*)?([A-Z][A-Z0-9_]{2,})\s*=/g)) names.add(m[1]!);
    // One-word names (`GROUPS`, `SANDBOX`) only where a variable is being documented or set: a table
    // row, a list item that starts with it, a snippet; the collector keeps them only when a manifest
    // or an env file declares them. Lower-case names (`response_format`, a tool's parameter) are never
    // variables here, and must not make a line look like it names several.
    const settingPlace = !!block || line.trim().startsWith("|") || !!item;
    const candidates = [...names].filter((n) => /_/.test(n) || /(KEY|TOKEN|SECRET)$/.test(n) || (settingPlace && ONE_WORD.test(n))).filter((n) => n === n.toUpperCase());
    if (!candidates.length) {
      if (line.trim().startsWith("|") && /\|/.test(line)) header = header && /^\s*\|?\s*:?-{2,}/.test(line) ? header : line.split("|").map((c) => c.trim().toLowerCase());
      else if (!line.trim()) header = header ?? undefined;
      return;
    }
    const r = ref(file, lineNo, "README", line, mode);
    if (block) {
      // A config snippet or command: the values shown are examples; a comment may say more.
      const comment = /(\/\/|#)\s*(.*)$/.exec(line)?.[2] ?? "";
      const blockMode = mode === "default" ? (modeOf(lines.slice(Math.max(0, block.start - 1), lineNo).join(" ").replace(/`[^`]*`/g, "")) ?? "default") : mode;
      for (const name of candidates) {
        if (/^\s*#\s*[A-Z]/.test(line) && block.lang !== "json") into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode });
        else if (optionalText(comment)) into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode, description: comment.slice(0, 200) });
        else if (requiredText(comment)) into.add(name, "readme required", { ...r, mode: blockMode }, { mode: blockMode, description: comment.slice(0, 200) });
        else if (optionalSnippet(lines, block.start, headingText)) into.add(name, "readme optional", { ...r, mode: blockMode }, { mode: blockMode });
        else into.add(name, "readme snippet", { ...r, mode: blockMode }, { mode: blockMode });
      }
      return;
    }
    const isRow = line.trim().startsWith("|");
    const cells = isRow ? line.split("|").map((c) => c.trim()) : [];
    for (const name of candidates) {
      let kind: SignalKind | undefined;
      let rowMode: EnvMode | undefined;
      let description: string | undefined;
      if (isRow && cells.length > 2 && cells.slice(0, 3).some((c) => c.replace(/[`*]/g, "") === name)) {
        const col = (re: RegExp) => (header ? header.findIndex((c) => re.test(c)) : -1);
        const reqCol = col(/required|mandatory/);
        const cell = reqCol >= 0 ? (cells[reqCol] ?? "").toLowerCase() : "";
        if (/^(yes|true|✅|required|\*\*yes\*\*|y)$/.test(cell.replace(/[`*]/g, ""))) kind = "readme required";
        else if (/^(no|false|optional|❌|-|n)$/.test(cell.replace(/[`*]/g, ""))) kind = "readme optional";
        else if (/yes\s*\*|\*\s*$|conditional|one of|either/.test(cell)) kind = "readme optional";
        // A "Required for" column names the mode that needs the variable: the default stdio mode, or another.
        else if (reqCol >= 0 && /\bfor\b/.test(header?.[reqCol] ?? "")) {
          const needs = cell.replace(/[`*]/g, "");
          if (/^(stdio|local|all|always|every \w+|both)$/.test(needs)) kind = "readme required";
          else if (lineIsHttpOnly(`for ${needs}`) || /^(http|sse|streamable[- ]http|remote|hosted|oauth)\b/.test(needs)) {
            kind = "readme listed";
            rowMode = "http";
          }
        }
        const rest = cells.filter((c) => c && !c.includes(name)).join(" ");
        if (!kind) kind = requiredText(rest) ? "readme required" : optionalText(rest) ? "readme optional" : headingVerdict === "required" ? "readme required" : headingVerdict === "optional" ? "readme optional" : "readme listed";
        description = cells.filter((c) => c && !c.includes(name) && !/^(yes|no|required|optional|true|false|-+|`?none`?|`?nil`?)$/i.test(c)).sort((a, b) => b.length - a.length)[0];
      } else if (item && items.slice(0, -1).some((x) => x.documents && x.documents !== name)) {
        // A sub-item of another variable's item ("* `A`: ..." / "  * leave `B` unset when A is set")
        // speaks of A; B is only mentioned there.
        kind = "readme mention";
      } else if (/^\s*([-*+]|\d+\.)\s/.test(line) && candidates.length <= 2 && line.indexOf(name) >= 0) {
        // A list item that documents the variable.
        const rest = line.replace(/`[^`]*`/g, "");
        kind = requiredText(rest) ? "readme required" : optionalText(rest) ? "readme optional" : headingVerdict === "required" ? "readme required" : headingVerdict === "optional" ? "readme optional" : "readme listed";
        description = /`[A-Za-z0-9_]+`\s*[:—–-]\s*(.+)$/.exec(line)?.[1]?.trim();
      } else {
        // Prose: the verdict comes from the sentence that names the variable, and only when that
        // sentence speaks of setting it ("set the `X` environment variable", "`X=true`"): "override the
        // client configuration using the `X` context key" names something in the server's API.
        const sentence = line.split(/(?<=[.!?])\s+(?=[A-Z])/).find((x) => x.includes(name)) ?? line;
        const rest = sentence.replace(/`[^`]*`/g, "");
        const aboutSetting = /\b(env(ironment)?|variables?|set|sets|setting|export|provide|defaults? (to|is))\b|=/i.test(rest) || sentence.includes(`${name}=`);
        if (candidates.length === 1 && aboutSetting && requiredText(rest)) kind = "readme required";
        else if (candidates.length === 1 && aboutSetting && optionalText(rest)) kind = "readme optional";
        else if (envSection || /environment variable|env var|\benv\b|\b(set|export)\b/i.test(line)) kind = "readme mention";
      }
      if (kind) into.add(name, kind, { ...r, mode: rowMode ?? mode }, { mode: rowMode ?? mode, ...(description ? { description: description.replace(/[`*]/g, "").slice(0, 200) } : {}) });
    }
    // `X` / `--flag` (or "`X` or `--flag`") on a list item or table row: the flag stands in for the variable.
    if (rowOrItem) {
      for (const name of candidates) {
        const flag = new RegExp(`\`${name}\`\\s*(?:/|,|\\bor\\b|\\|)\\s*\`(--?[a-z][\\w-]*)`).exec(line)?.[1] ?? (flagsIntro && item ? /`(--[a-z][\w-]*)`/.exec(line)?.[1] ?? "command-line" : undefined);
        if (flag) into.argumentAlternative(name, flag);
      }
    } else if (line.trim() && !prose) flagsIntro = false;
    if (candidates.length >= 2 && (ALTERNATIVE_WORDS.test(line.replace(/`[^`]*`/g, "")) || /\byes\s*\*/i.test(line))) into.alternatives(candidates, r);
  });
  listedAlternatives(file, lines, inBlock, into);
  unmarkedAmongOptional(file, lines, inBlock, modes, into);
  // Table rows marked `Yes*` (required, with a footnote) stand in for each other.
  const starred = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*\|/.test(l) && /\|\s*yes\s*\*\s*\|/i.test(l));
  if (starred.length >= 2) {
    const names = starred.map(([l]) => /`([A-Z][A-Z0-9_]+)`/.exec(l)?.[1]).filter((n): n is string => !!n);
    const [first] = starred;
    if (first) into.alternatives(names, ref(file, first[1] + 1, "README", first[0]));
  }
}

/**
 * A snippet that shows a workaround or an option, not the way to run the server: under a
 * "Troubleshooting" heading, or introduced by "If you run into authentication issues, you can
 * temporarily add ...", "Optionally, ...". Its variables are options.
 */
function optionalSnippet(lines: string[], firstLine: number, headingText: string): boolean {
  if (/\btroubleshoot/i.test(headingText)) return true;
  let j = firstLine - 3; // the line before the opening fence (lines are 0-based, firstLine 1-based)
  while (j >= 0 && !lines[j]!.trim()) j--;
  const intro = (lines[j] ?? "").replace(/`[^`]*`/g, "");
  // Only a line that introduces the snippet (ends with ":"), not the last item of a list above it.
  if (/^\s*#/.test(lines[j] ?? "") || !/:\s*$/.test(intro)) return false;
  return /\boptional(ly)?\b|\bif you (run into|encounter|have (trouble|issues|problems))\b|\btemporarily\b|\bworkaround\b/i.test(intro);
}

/** A line that runs an example program of the repository: "run the [application](./examples/agent.py)", `python examples/agent.py`. */
const RUNS_EXAMPLE = /\b(run|start|execute|launch|try)\b[^.\n]{0,60}\]\(\.?\/?examples?\/|\b(run|start|execute|launch)\b[^.\n]{0,40}`?\.?\/?examples?\/[\w./-]+\.(py|ts|js|mjs|go)\b/i;
const RUNS_EXAMPLE_CMD = /^\s*(python3?|node|npx tsx|tsx|go run|uv run|deno run|bun)\s+\.?\/?examples?\//;

/**
 * Sections (by their heading's line; up to the next heading) that run one of the repository's example
 * programs: the keys set there belong to the example (an agent calling an LLM), not to the server.
 */
function exampleSections(lines: string[], inBlock: Map<number, unknown>): Set<number> {
  const found = new Set<number>();
  let section = 0;
  lines.forEach((line, i) => {
    if (/^#{1,6}\s/.test(line) && !inBlock.has(i + 1)) section = i + 1;
    else if (section && (inBlock.has(i + 1) ? RUNS_EXAMPLE_CMD.test(line) : RUNS_EXAMPLE.test(line))) found.add(section);
  });
  return found;
}

/** A line that introduces a list of options of which one is enough ("use one of these options:"). */
const ONE_OF_INTRO = /\b(one of (these|the following)|either of (these|the following)|choose (one|between)|any one of|(the )?following (authentication )?(options|methods|ways))\b[^.]*:\s*$/i;

/**
 * Alternatives written on separate lines: a line ending in "use one of these options:" followed by
 * list items (more indented than the line when it is itself a list item), each naming variables,
 * e.g. "- API key: set `ES_API_KEY`" / "- Basic auth: set `ES_USERNAME` and `ES_PASSWORD`".
 */
export function listedAlternatives(file: EvidenceFile, lines: string[], inBlock: Map<number, unknown>, into: EnvCollector): void {
  const indent = (l: string) => /^\s*/.exec(l)?.[0].length ?? 0;
  const listItem = /^\s*([-*+]|\d+\.)\s/;
  lines.forEach((line, i) => {
    if (inBlock.has(i + 1) || !ONE_OF_INTRO.test(line.replace(/`[^`]*`/g, ""))) return;
    const base = listItem.test(line) ? indent(line) : -1;
    const items: string[][] = [];
    for (let j = i + 1; j < lines.length && j <= i + 12; j++) {
      const l = lines[j] ?? "";
      if (!l.trim()) {
        if (items.length) break;
        continue;
      }
      if (!listItem.test(l) || indent(l) <= base) break;
      const names = [...l.matchAll(/`([A-Z][A-Z0-9_]{2,})`/g)].map((m) => m[1]!).filter(acceptableName);
      if (names.length) items.push(names);
    }
    if (items.length >= 2) into.alternatives(items.flat(), ref(file, i + 1, "README", line));
  });
}

/**
 * A list of variables where some items are marked optional ("(Optional) `X`: ...", "`Y`: ... (default:
 * 3)") and others carry no mark: by contrast, the unmarked ones are the needed ones ("Set the following
 * environment variables: `URL` ... (Optional) `SKIP_VERIFY` ..."). Only when no item of the list says
 * "required" itself (then the author marks needs, not options) and only for items that document one
 * variable by starting with its name.
 */
const LIST_OF_VARIABLES = /\b(set|configure|provide|export|define|need)\b[^.]*\b(following|these)\b[^.]*\b(environment variables|env vars|variables)\b[^.]*:\s*$|\b(following|these) (environment variables|env vars|variables)\b[^.]*:\s*$/i;

export function unmarkedAmongOptional(file: EvidenceFile, lines: string[], inBlock: Map<number, unknown>, modes: Map<number, EnvMode>, into: EnvCollector): void {
  const item = /^(\s*)(?:[-*+]|\d+\.)\s+(.*)$/;
  const documented = /^(?:\((?:optional|required)\)\s*)?(?:\*\*)?`([A-Z][A-Z0-9_]{2,})`(?:\*\*)?\s*(?:[:—–-]|\(|$)/i;
  let block: { indent: number; intro: boolean; entries: { name?: string; verdict: "required" | "optional" | "default" | "none"; line: number; text: string }[] } | undefined;
  const flush = () => {
    if (block?.intro && block.entries.some((e) => e.verdict === "optional") && !block.entries.some((e) => e.verdict === "required")) {
      for (const e of block.entries) if (e.name && e.verdict === "none") into.add(e.name, "readme unmarked", ref(file, e.line, "README (unmarked among optional items)", e.text, modes.get(e.line) ?? "default"));
    }
    block = undefined;
  };
  lines.forEach((line, i) => {
    const m = item.exec(line);
    if (inBlock.has(i + 1) || !m) {
      if (line.trim() && !/^\s/.test(line)) flush();
      else if (!line.trim() && block && !item.test(lines[i + 1] ?? "")) flush();
      return;
    }
    const indent = m[1]!.length;
    if (block && indent > block.indent) return; // a sub-item belongs to its parent's entry
    if (block && indent < block.indent) flush();
    if (!block) {
      // The line before the list introduces it: "Set the following environment variables:".
      let j = i - 1;
      while (j >= 0 && !lines[j]!.trim()) j--;
      block = { indent, intro: LIST_OF_VARIABLES.test(lines[j] ?? ""), entries: [] };
    }
    const text = m[2] ?? "";
    const rest = text.replace(/`[^`]*`/g, "");
    const name = documented.exec(text)?.[1];
    // Only an explicit mark counts as one: "(Optional)", "Optional:", "optional".
    const verdict = requiredText(rest) ? "required" : /\boptional\b/i.test(rest) ? "optional" : optionalText(rest) ? "default" : "none";
    block.entries.push({ ...(name ? { name } : {}), verdict, line: i + 1, text: line });
  });
  flush();
}
