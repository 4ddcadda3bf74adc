// A tool's result as what it is: text (pretty-printed when it is JSON), images and audio shown,
// resources with their URI and content, structured content as JSON. Never as HTML.
import { h } from "./dom.js";

const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp|svg\+xml)$/;
const AUDIO_TYPES = /^audio\/(wav|x-wav|mpeg|mp3|ogg|webm)$/;

export function resultView(outcome) {
  if (!outcome.ok) return h("div", { class: "result result-error" }, h("h4", {}, `Call failed (${outcome.error.code})`), h("pre", {}, outcome.error.message));
  const result = outcome.result ?? {};
  const content = Array.isArray(result.content) ? result.content : [];
  return h(
    "div",
    { class: `result${result.isError ? " result-error" : ""}` },
    h("h4", {}, result.isError ? "The tool reported an error" : "Result"),
    content.map(item),
    result.structuredContent !== undefined ? h("section", {}, h("h5", {}, "Structured content (JSON)"), h("pre", { class: "json" }, JSON.stringify(result.structuredContent, null, 2))) : null,
    content.length === 0 && result.structuredContent === undefined ? h("p", { class: "muted" }, "The tool returned no content.") : null,
  );
}

function item(c) {
  switch (c?.type) {
    case "text":
      return textBlock(c.text ?? "");
    case "image":
      return IMAGE_TYPES.test(c.mimeType ?? "")
        ? h("figure", {}, h("img", { src: `data:${c.mimeType};base64,${c.data}`, alt: "image returned by the tool" }), h("figcaption", {}, c.mimeType))
        : h("p", {}, `An image of type ${c.mimeType} (not shown).`);
    case "audio":
      return AUDIO_TYPES.test(c.mimeType ?? "") ? h("audio", { controls: true, src: `data:${c.mimeType};base64,${c.data}` }) : h("p", {}, `Audio of type ${c.mimeType} (not played).`);
    case "resource": {
      const r = c.resource ?? {};
      return h("section", { class: "resource" }, h("h5", {}, "Resource ", h("code", {}, r.uri ?? "")), r.mimeType ? h("p", { class: "muted" }, r.mimeType) : null, r.text !== undefined ? textBlock(r.text) : h("p", {}, `Binary content, ${Math.floor(((r.blob ?? "").length * 3) / 4)} bytes.`));
    }
    case "resource_link":
      return h("p", { class: "resource" }, "Resource link ", h("code", {}, c.uri ?? ""), c.name ? ` (${c.name})` : "", c.description ? `: ${c.description}` : "");
    default:
      return h("pre", { class: "json" }, JSON.stringify(c, null, 2));
  }
}

function textBlock(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return h("section", {}, h("h5", {}, "JSON"), h("pre", { class: "json" }, JSON.stringify(JSON.parse(trimmed), null, 2)));
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return h("pre", { class: "text" }, text);
}
