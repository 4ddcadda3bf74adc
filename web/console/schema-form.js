// A tool's input schema as a form: strings, numbers, integers, booleans and enums get their own
// controls; anything else (objects, arrays, unions) is a JSON field. `read()` returns the
// arguments object, or throws with the field that is wrong (and focuses it).
import { h } from "./dom.js";

export function schemaForm(schema, idPrefix) {
  const properties = schema?.properties && typeof schema.properties === "object" ? schema.properties : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const fields = Object.entries(properties).map(([name, prop]) => field(name, prop ?? {}, required.has(name), `${idPrefix}-${name}`));
  const element = fields.length === 0 ? h("p", { class: "muted" }, "This tool takes no arguments.") : h("div", { class: "fields" }, fields.map((f) => f.element));
  return {
    element,
    read() {
      const args = {};
      for (const f of fields) {
        const value = f.read();
        if (value !== undefined) args[f.name] = value;
      }
      return args;
    },
  };
}

function field(name, prop, isRequired, id) {
  const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== "null") : prop.type;
  const help = prop.description ? h("span", { class: "help", id: `${id}-help` }, prop.description) : null;
  const label = h("label", { for: id }, name, isRequired ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null, type ? h("span", { class: "muted" }, ` ${type}`) : null);
  const common = { id, name, required: isRequired, "aria-describedby": help ? `${id}-help` : undefined };
  const fail = (input, message) => {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    throw new Error(`${name}: ${message}`);
  };
  let input;
  let read;
  if (Array.isArray(prop.enum)) {
    input = h("select", common, isRequired ? null : h("option", { value: "" }, "(not set)"), prop.enum.map((v, i) => h("option", { value: String(i) }, JSON.stringify(v))));
    read = () => (input.value === "" ? undefined : prop.enum[Number(input.value)]);
  } else if (type === "boolean") {
    input = h("input", { ...common, type: "checkbox", required: false, checked: prop.default === true });
    read = () => input.checked;
  } else if (type === "number" || type === "integer") {
    input = h("input", { ...common, type: "number", step: type === "integer" ? "1" : "any", min: prop.minimum, max: prop.maximum, value: prop.default });
    read = () => {
      if (input.value === "") return isRequired ? fail(input, "is required") : undefined;
      const n = Number(input.value);
      if (!Number.isFinite(n) || (type === "integer" && !Number.isInteger(n))) return fail(input, `is not ${type === "integer" ? "a whole number" : "a number"}`);
      return n;
    };
  } else if (type === "string") {
    const long = (prop.maxLength ?? 0) > 200 || /text|content|body|query|code/i.test(name);
    input = long ? h("textarea", { ...common, rows: 3 }, prop.default ?? "") : h("input", { ...common, type: "text", value: prop.default, placeholder: prop.format ?? undefined });
    read = () => (input.value === "" ? (isRequired ? fail(input, "is required") : undefined) : input.value);
  } else {
    input = h("textarea", { ...common, rows: 4, class: "json", spellcheck: "false", placeholder: "JSON" }, prop.default !== undefined ? JSON.stringify(prop.default, null, 2) : "");
    read = () => {
      if (input.value.trim() === "") return isRequired ? fail(input, "is required") : undefined;
      try {
        return JSON.parse(input.value);
      } catch {
        return fail(input, "is not valid JSON");
      }
    };
  }
  input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  const element = type === "boolean" ? h("div", { class: "field check" }, input, label, help) : h("div", { class: "field" }, label, input, help);
  return { name, element, read };
}
