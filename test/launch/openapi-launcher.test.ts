/**
 * OpenAPI-backed servers through the real OpenApiLauncher and the SDK's real client, against a
 * real HTTP API started here (node:http on 127.0.0.1:0) that records every request. Its spec is
 * served two ways: a YAML OpenAPI 3.0 file in a temp registry, and a JSON OpenAPI 3.1 document
 * from the API's own `/openapi.json` (with `$ref`s into components and a relative server URL).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { pino } from "pino";
import { stringify } from "yaml";
import { startGatewayRuntime } from "../../src/gateway/gateway-runtime.js";
import { startHttpGateway } from "../../src/transports/http-server.js";
import { isLaunchError } from "../../src/launch/errors.js";
import type { Lease, UpstreamClient } from "../../src/launch/launcher.js";
import { toolCall, toolList } from "../../src/launch/call-tool.js";
import { pathMatches } from "../../src/launch/openapi/openapi-filter.js";
import { OpenApiLauncher } from "../../src/launch/openapi/openapi-launcher.js";
import { buildRequest } from "../../src/launch/openapi/openapi-request.js";
import type { OpenApiOperation } from "../../src/launch/openapi/openapi-tools.js";
import { propertyNames, toolName } from "../../src/launch/openapi/openapi-tools.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { loadRegistry } from "../../src/registry/loader.js";
import type { OpenApi, RegistryFile, RegistryServer } from "../../src/registry/types.js";

// ---- the API under test ------------------------------------------------------------------------

interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  closedEarly: boolean;
}

const TOKEN = "tok-3f9a1c77e2b4";
const API_KEY = "key-81d2c0ffee55";
const PASSWORD = "pw-5e6f7a8b9c0d";
const HUGE_BYTES = 3_000_000;
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");

interface Api {
  url: URL;
  port: number;
  requests: Recorded[];
  server: HttpServer;
}

async function startApi(): Promise<Api> {
  const requests: Recorded[] = [];
  const api: Partial<Api> = { requests };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const record: Recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), closedEarly: false };
      const url = new URL(req.url ?? "/", "http://localhost");
      const json = (status: number, value: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      };
      if (url.pathname === "/openapi.json") return json(200, petsSpec("3.1"));
      requests.push(record);
      const path = url.pathname.replace(/^\/api/, "");
      let m: RegExpExecArray | null;
      if (path === "/pets" && req.method === "GET") return json(200, [{ id: 1, name: "Rex" }, { id: 2, name: "Tom" }]);
      if (path === "/pets" && req.method === "POST") return json(201, { id: 3, ...(JSON.parse(record.body || "{}") as object) });
      if ((m = /^\/pets\/([^/]+)$/.exec(path)) && req.method === "GET") {
        const id = decodeURIComponent(m[1] as string);
        return id === "1" ? json(200, { id: 1, name: "Rex", tag: "dog" }) : json(404, { error: `no pet ${id}` });
      }
      if (/^\/pets\/[^/]+$/.test(path) && req.method === "DELETE") return void res.writeHead(204).end();
      if ((m = /^\/stores\/([^/]+)\/inventory$/.exec(path))) return void res.writeHead(200, { "content-type": "text/plain" }).end(`inventory of store ${m[1]} (filter ${url.searchParams.get("id")})`);
      if (path === "/things" || path === "/things/all") return json(200, { path });
      if (path === "/boom") return void res.writeHead(500, { "content-type": "text/plain" }).end(`kaboom: ${"x".repeat(5000)}`);
      if (path === "/slow") {
        const timer = setTimeout(() => json(200, { late: true }), 20_000);
        res.on("close", () => {
          clearTimeout(timer);
          record.closedEarly = !res.writableFinished;
        });
        return;
      }
      if (path === "/huge") return void res.writeHead(200, { "content-type": "application/json", "content-length": String(HUGE_BYTES) }).end(`"${"y".repeat(HUGE_BYTES - 2)}"`);
      if (path === "/logo.png") return void res.writeHead(200, { "content-type": "image/png" }).end(PNG);
      if (path === "/whoami") {
        const auth = req.headers.authorization ?? "";
        const basic = `Basic ${Buffer.from(`ada:${PASSWORD}`).toString("base64")}`;
        if (auth === `Bearer ${TOKEN}`) return json(200, { scheme: "bearer", echo: auth });
        if (auth === basic) return json(200, { scheme: "basic", echo: auth });
        if (req.headers["x-api-key"] === API_KEY) return json(200, { scheme: "apiKey-header", echo: API_KEY });
        if (url.searchParams.get("api_key") === API_KEY) return json(200, { scheme: "apiKey-query", echo: req.url });
        return json(401, { error: "unauthorized" });
      }
      json(404, { error: `no route ${req.method} ${path}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(api, { url: new URL(`http://127.0.0.1:${port}`), port, server }) as Api;
}

/** The API's description, as OpenAPI 3.0 (the YAML file) or 3.1 (served as JSON). */
function petsSpec(version: "3.0" | "3.1", port?: number): Record<string, unknown> {
  const v30 = version === "3.0";
  const ok = { "200": { description: "OK" } };
  return {
    openapi: v30 ? "3.0.3" : "3.1.0",
    info: { title: "Pets", version: "1.0.0" },
    servers: v30 ? [{ url: "http://127.0.0.1:{port}/api", variables: { port: { default: String(port) } } }] : [{ url: "/api" }],
    tags: [{ name: "pets" }, { name: "admin" }, { name: "diagnostics" }, { name: "auth" }],
    paths: {
      "/pets": {
        get: {
          operationId: "listPets",
          tags: ["pets"],
          summary: "List pets",
          description: "Pets in the store, newest first.",
          parameters: [
            { name: "limit", in: "query", description: "How many to return", schema: v30 ? { type: "integer", minimum: 0, exclusiveMinimum: true, maximum: 100 } : { type: "integer", exclusiveMinimum: 0, maximum: 100 } },
            { name: "tags", in: "query", schema: { type: "array", items: { type: "string" } } },
            { name: "fields", in: "query", explode: false, schema: { type: "array", items: { type: "string" } } },
            { $ref: "#/components/parameters/RequestId" },
          ],
          responses: ok,
        },
        post: {
          operationId: "createPet",
          tags: ["pets"],
          summary: "Create a pet",
          requestBody: { $ref: "#/components/requestBodies/NewPet" },
          responses: { "201": { description: "Created" } },
        },
      },
      "/pets/{petId}": {
        parameters: [{ name: "petId", in: "path", required: true, description: "The pet's id", schema: { type: "string" } }],
        get: { operationId: "getPet", tags: ["pets"], summary: "Get a pet", responses: ok },
        delete: { operationId: "deletePet", tags: ["pets", "admin"], summary: "Delete a pet", responses: { "204": { description: "Deleted" } } },
      },
      "/stores/{id}/inventory": {
        get: {
          tags: ["pets"],
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "integer" } },
            { name: "id", in: "query", description: "Only items of this supplier", schema: { type: "string" } },
          ],
          responses: ok,
        },
      },
      "/things": { get: { operationId: "get.thing", responses: ok } },
      "/things/all": { get: { operationId: "get thing", responses: ok } },
      "/boom": { get: { operationId: "boom", tags: ["diagnostics"], summary: "Always fails", responses: ok } },
      "/slow": { get: { operationId: "slow", tags: ["diagnostics"], summary: "Answers after 20 s", responses: ok } },
      "/huge": { get: { operationId: "huge", tags: ["diagnostics"], summary: "Three megabytes", responses: ok } },
      "/logo.png": { get: { operationId: "logo", tags: ["diagnostics"], summary: "An image", responses: ok } },
      "/whoami": { get: { operationId: "whoami", tags: ["auth"], summary: "Who the API thinks we are", responses: ok } },
    },
    components: {
      parameters: { RequestId: { name: "X-Request-Id", in: "header", schema: { type: "string" } } },
      requestBodies: { NewPet: { required: true, description: "The pet to add", content: { "application/json": { schema: { $ref: "#/components/schemas/NewPet" } } } } },
      schemas: {
        NewPet: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string", example: "Rex" },
            tag: v30 ? { type: "string", nullable: true } : { type: ["string", "null"] },
            owner: { $ref: "#/components/schemas/Person" },
          },
        },
        Person: { type: "object", properties: { name: { type: "string" }, friends: { type: "array", items: { $ref: "#/components/schemas/Person" } } } },
      },
    },
  };
}

// ---- helpers -----------------------------------------------------------------------------------

function openapiServer(prefix: string, openapi: OpenApi, root?: string): RegistryServer {
  const entry: RegistryFile = { name: `dev.mcp-router.test/${prefix}`, description: `test server ${prefix}`, version: "1.0.0", router: { prefix, openapi } };
  const hash = createHash("sha256").update(JSON.stringify(entry)).digest("hex");
  return { prefix, name: entry.name, file: `servers/${prefix}.yaml`, hash, entry, ...(root ? { root } : {}) };
}

function text(result: unknown): string {
  return (result as CallToolResult).content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

const ALL_TOOLS = ["listPets", "createPet", "getPet", "deletePet", "get_stores_id_inventory", "get_thing", "get_thing_2", "boom", "slow", "huge", "logo", "whoami"];

describe("OpenApiLauncher", () => {
  let api: Api;
  let root: string;
  let launcher: OpenApiLauncher;
  const logLines: string[] = [];
  const leases: Lease[] = [];
  const secrets = staticSecretSource({ PETS_TOKEN: TOKEN, PETS_KEY: API_KEY, PETS_PASSWORD: PASSWORD }, "the test's secrets");

  before(async () => {
    api = await startApi();
    root = await mkdtemp(join(tmpdir(), "mcp-router-openapi-"));
    await mkdir(join(root, "openapi"));
    await mkdir(join(root, "servers"));
    await writeFile(join(root, "openapi", "pets.yaml"), `# The pets API, OpenAPI 3.0\n${stringify(petsSpec("3.0", api.port))}`);
    const logger = pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) });
    launcher = new OpenApiLauncher({ secrets, logger });
  });

  after(async () => {
    for (const lease of leases) lease.release();
    await launcher?.close();
    await new Promise((resolve) => api?.server.close(resolve));
    api?.server.closeAllConnections();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const fileServer = (prefix = "pets", extra: Partial<OpenApi> = {}): RegistryServer => openapiServer(prefix, { spec: "openapi/pets.yaml", ...extra }, root);
  const urlServer = (prefix = "petsurl", extra: Partial<OpenApi> = {}): RegistryServer => openapiServer(prefix, { spec: new URL("/openapi.json", api.url).href, ...extra });

  async function client(server: RegistryServer): Promise<UpstreamClient> {
    await launcher.prepare(server);
    const lease = await launcher.acquire(server, { sessionId: "test" });
    leases.push(lease);
    return lease.client;
  }

  async function tools(server: RegistryServer): Promise<Tool[]> {
    return (await toolList(await client(server))).tools;
  }

  async function call(server: RegistryServer, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    return await toolCall(await client(server), { name, arguments: args });
  }

  function lastRequest(): Recorded {
    const r = api.requests.at(-1);
    assert.ok(r, "the API received a request");
    return r;
  }

  it("prepare reports how many operations became tools; the lease looks like any other", async () => {
    const progress: string[] = [];
    const server = fileServer("counted", { include: { tags: ["pets"] } });
    await launcher.prepare(server, (m) => progress.push(m));
    assert.deepEqual(progress, ["5 of 12 operations of the OpenAPI document became tools"]);
    const lease = await launcher.acquire(server, { sessionId: "s" });
    leases.push(lease);
    assert.equal(lease.containerId, undefined);
    assert.deepEqual(lease.timings, { queueMs: 0, startMs: 0, warm: true });
    assert.deepEqual(lease.client.serverCapabilities(), { tools: {} });
    assert.equal(launcher.stats().containers, 0);
    assert.ok(launcher.stats().servers.some((s) => s.prefix === "counted" && s.running >= 1));
  });

  it("lists the operations of a YAML 3.0 file as tools: names, descriptions, input schemas", async () => {
    const list = await tools(fileServer());
    assert.deepEqual(list.map((t) => t.name), ALL_TOOLS);
    const byName = new Map(list.map((t) => [t.name, t]));
    const listPets = byName.get("listPets");
    assert.equal(listPets?.description, "List pets\n\nPets in the store, newest first.");
    assert.deepEqual(listPets?.inputSchema, {
      type: "object",
      properties: {
        limit: { type: "integer", exclusiveMinimum: 0, maximum: 100, description: "How many to return" },
        tags: { type: "array", items: { type: "string" } },
        fields: { type: "array", items: { type: "string" } },
        "X-Request-Id": { type: "string" },
      },
      additionalProperties: false,
    });
    assert.equal(listPets?.annotations?.readOnlyHint, true);
    const createPet = byName.get("createPet");
    assert.deepEqual(createPet?.inputSchema.required, ["body"]);
    const body = createPet?.inputSchema.properties?.body as Record<string, unknown> & { properties: Record<string, Record<string, unknown>> };
    assert.equal(body.description, "The pet to add");
    assert.deepEqual(body.required, ["name"]);
    assert.deepEqual(body.properties.tag, { type: ["string", "null"] }, "3.0 nullable becomes a JSON Schema type list");
    assert.deepEqual(body.properties.name, { type: "string", examples: ["Rex"] });
    const friends = (body.properties.owner?.properties as Record<string, { items: { description: string } }>).friends;
    assert.match(friends?.items.description ?? "", /recursive: Person/, "a recursive $ref is cut with a note");
    const getPet = byName.get("getPet");
    assert.deepEqual(getPet?.inputSchema, { type: "object", properties: { petId: { type: "string", description: "The pet's id" } }, required: ["petId"], additionalProperties: false });
    assert.equal(byName.get("deletePet")?.annotations?.destructiveHint, true);
    const inventory = byName.get("get_stores_id_inventory");
    assert.equal(inventory?.description, "GET /stores/{id}/inventory");
    assert.deepEqual(Object.keys(inventory?.inputSchema.properties ?? {}), ["path_id", "query_id"], "colliding names get their location");
    assert.match(JSON.stringify(inventory?.inputSchema.properties?.query_id), /Only items of this supplier\\n\\n\(query parameter `id`\)/);
    assert.ok(list.every((t) => /^[a-zA-Z0-9_-]{1,64}$/.test(t.name)));
  });

  it("reads a JSON 3.1 document from a URL, with $refs and a server URL relative to the document", async () => {
    const server = urlServer();
    const list = await tools(server);
    assert.deepEqual(list.map((t) => t.name), ALL_TOOLS);
    const createPet = list.find((t) => t.name === "createPet");
    assert.deepEqual((createPet?.inputSchema.properties?.body as { properties: Record<string, unknown> }).properties.tag, { type: ["string", "null"] });
    assert.deepEqual(list.find((t) => t.name === "listPets")?.inputSchema.properties?.limit, { type: "integer", exclusiveMinimum: 0, maximum: 100, description: "How many to return" });
    const result = await call(server, "getPet", { petId: "1" });
    assert.equal(lastRequest().url, "/api/pets/1", "servers: [{url: /api}] resolved against the document's URL");
    assert.deepEqual(result.structuredContent, { id: 1, name: "Rex", tag: "dog" });
  });

  it("filters operations by tag, path glob, method and operationId, to include and to exclude", async () => {
    const names = async (prefix: string, filter: Partial<OpenApi>): Promise<string[]> => (await tools(fileServer(prefix, filter))).map((t) => t.name);
    assert.deepEqual(await names("f-tags", { include: { tags: ["pets"] } }), ["listPets", "createPet", "getPet", "deletePet", "get_stores_id_inventory"]);
    assert.deepEqual(await names("f-glob1", { include: { paths: ["/pets/*"] } }), ["getPet", "deletePet"]);
    assert.deepEqual(await names("f-glob2", { include: { paths: ["/pets/**"] } }), ["listPets", "createPet", "getPet", "deletePet"]);
    assert.deepEqual(await names("f-glob3", { include: { paths: ["/stores/*/inventory", "/things/**"] } }), ["get_stores_id_inventory", "get_thing", "get_thing_2"]);
    assert.deepEqual(await names("f-methods", { include: { tags: ["pets"], methods: ["post", "delete"] } }), ["createPet", "deletePet"]);
    assert.deepEqual(await names("f-ops", { include: { operations: ["getPet", "whoami", "get_thing_2"] } }), ["getPet", "get_thing_2", "whoami"]);
    assert.deepEqual(await names("f-exclude", { include: { tags: ["pets"] }, exclude: { tags: ["admin"] } }), ["listPets", "createPet", "getPet", "get_stores_id_inventory"]);
    assert.deepEqual(await names("f-exclude2", { exclude: { methods: ["get"] } }), ["createPet", "deletePet"]);
    assert.deepEqual(await names("f-exclude3", { exclude: { paths: ["/**"], methods: ["get"] } }), ["createPet", "deletePet"]);
    assert.deepEqual(await names("f-none", { include: { tags: ["nothing-has-this"] } }), []);
  });

  it("sends the right method, URL, query, headers and JSON body", async () => {
    const server = fileServer();
    const list = await call(server, "listPets", { limit: 5, tags: ["a", "b c"], fields: ["id", "name"], "X-Request-Id": "req-42" });
    let r = lastRequest();
    assert.equal(r.method, "GET");
    assert.equal(r.url, "/api/pets?limit=5&tags=a&tags=b+c&fields=id%2Cname", "arrays as repeated keys, explode: false as a comma list");
    assert.equal(r.headers["x-request-id"], "req-42");
    assert.deepEqual(JSON.parse(text(list)), [{ id: 1, name: "Rex" }, { id: 2, name: "Tom" }]);
    assert.equal(list.structuredContent, undefined, "an array is not structured content");

    const created = await call(server, "createPet", { body: { name: "Kit", tag: null } });
    r = lastRequest();
    assert.equal(r.method, "POST");
    assert.equal(r.url, "/api/pets");
    assert.equal(r.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(r.body), { name: "Kit", tag: null });
    assert.deepEqual(created.structuredContent, { id: 3, name: "Kit", tag: null });
    assert.equal(created.isError, undefined);

    await call(server, "getPet", { petId: "a b/c?" });
    assert.equal(lastRequest().url, "/api/pets/a%20b%2Fc%3F", "path parameters are encoded");

    const deleted = await call(server, "deletePet", { petId: "2" });
    assert.equal(lastRequest().method, "DELETE");
    assert.equal(text(deleted), `HTTP 204 No Content from DELETE http://127.0.0.1:${api.port}/api/pets/2 (empty body)`);

    const inventory = await call(server, "get_stores_id_inventory", { path_id: 7, query_id: "acme" });
    assert.equal(lastRequest().url, "/api/stores/7/inventory?id=acme");
    assert.equal(text(inventory), "inventory of store 7 (filter acme)");

    const logo = await call(server, "logo");
    assert.deepEqual(logo.content[0], { type: "image", data: PNG.toString("base64"), mimeType: "image/png" });
  });

  it("refuses bad arguments with a result the model can act on, without calling the API", async () => {
    const server = fileServer();
    const before = api.requests.length;
    const missing = await call(server, "getPet", {});
    assert.equal(missing.isError, true);
    assert.equal(text(missing), "getPet: missing required argument petId");
    const unknown = await call(server, "getPet", { petId: "1", color: "red" });
    assert.equal(text(unknown), "getPet: unknown argument color; getPet takes petId");
    assert.equal(api.requests.length, before);
    await assert.rejects(toolCall(await client(server), { name: "nope", arguments: {} }), /unknown tool nope of pets/);
  });

  it("turns HTTP errors into isError results with the status and a body excerpt", async () => {
    const server = fileServer();
    const notFound = await call(server, "getPet", { petId: "99" });
    assert.equal(notFound.isError, true);
    assert.equal(text(notFound), `HTTP 404 Not Found from GET http://127.0.0.1:${api.port}/api/pets/99\n{"error":"no pet 99"}`);
    const boom = await call(server, "boom");
    assert.equal(boom.isError, true);
    const message = text(boom);
    assert.match(message, /^HTTP 500 Internal Server Error from GET http:\/\/127\.0\.0\.1:\d+\/api\/boom\nkaboom: x+\n\[body excerpt; the rest was cut\]$/);
    assert.ok(message.length < 2300, `excerpt is about 2 KB, got ${message.length} chars`);
  });

  it("bearer, apiKey header, apiKey query and basic auth take their values from the secret source, scrubbed from results and logs", async () => {
    const cases: Array<[OpenApi["auth"], string]> = [
      [{ type: "bearer", secret: "PETS_TOKEN" }, "bearer"],
      [{ type: "apiKey", in: "header", name: "X-Api-Key", secret: "PETS_KEY" }, "apiKey-header"],
      [{ type: "apiKey", in: "query", name: "api_key", secret: "PETS_KEY" }, "apiKey-query"],
      [{ type: "basic", username: "ada", secret: "PETS_PASSWORD" }, "basic"],
    ];
    for (const [auth, scheme] of cases) {
      const result = await call(fileServer(`auth-${scheme}`, { auth }), "whoami");
      assert.equal(result.isError, undefined, text(result));
      const body = JSON.parse(text(result)) as { scheme: string; echo: string };
      assert.equal(body.scheme, scheme);
      assert.match(body.echo, /\*\*\*/, "the secret the API echoed is masked");
      for (const secret of [TOKEN, API_KEY, PASSWORD, Buffer.from(`ada:${PASSWORD}`).toString("base64")]) {
        assert.ok(!JSON.stringify(result).includes(secret), `${scheme}: no secret in the result`);
      }
    }
    assert.equal(api.requests.at(-2)?.url, `/api/whoami?api_key=${API_KEY}`, "the API did get the key in the query");
    const unauthenticated = await call(fileServer(), "whoami");
    assert.equal(text(unauthenticated), `HTTP 401 Unauthorized from GET http://127.0.0.1:${api.port}/api/whoami\n{"error":"unauthorized"}`);
    const logs = logLines.join("");
    assert.match(logs, /openapi call/);
    for (const secret of [TOKEN, API_KEY, PASSWORD]) assert.ok(!logs.includes(secret), "no secret in the logs");
  });

  it("a missing secret is an isError result naming the variable; a broken auth block fails prepare", async () => {
    const before = api.requests.length;
    const result = await call(fileServer("auth-missing", { auth: { type: "bearer", secret: "PETS_OTHER_TOKEN" } }), "whoami");
    assert.equal(result.isError, true);
    assert.equal(text(result), "auth-missing: the secret PETS_OTHER_TOKEN (router.openapi.auth.secret) is not set in the test's secrets. Set PETS_OTHER_TOKEN there and call again.");
    assert.equal(api.requests.length, before, "no request without the credentials");
    await assert.rejects(launcher.prepare(fileServer("auth-bad", { auth: { type: "apiKey", secret: "PETS_KEY" } })), (e: unknown) => {
      assert.ok(isLaunchError(e, "PREPARE_FAILED"));
      assert.match(e.message, /auth-bad \(servers\/auth-bad\.yaml\): router\.openapi\.auth of type apiKey needs `name`/);
      return true;
    });
  });

  it("applies the timeout and the response size limit", async () => {
    const slow = await call(fileServer("limits", { timeoutSeconds: 0.5, maxResponseBytes: 1000 }), "slow");
    assert.equal(slow.isError, true);
    assert.equal(text(slow), `GET http://127.0.0.1:${api.port}/api/slow timed out after 0.5 s. Raise router.openapi.timeoutSeconds if the API needs longer.`);
    const huge = await call(fileServer("limits", { timeoutSeconds: 0.5, maxResponseBytes: 1000 }), "huge");
    assert.equal(huge.isError, undefined);
    const message = text(huge);
    assert.ok(message.startsWith(`"${"y".repeat(999)}\n[response cut`), "the first 1000 bytes, then the note");
    assert.match(message, /\n\[response cut at 1000 bytes of 3000000: router\.openapi\.maxResponseBytes\]$/);
    const unreachable = await call(fileServer("unreachable", { baseUrl: "http://127.0.0.1:1/api" }), "listPets");
    assert.equal(unreachable.isError, true);
    assert.match(text(unreachable), /^GET http:\/\/127\.0\.0\.1:1\/api\/pets failed: .*ECONNREFUSED.*Check router\.openapi\.baseUrl/);
  });

  it("cancelling a call aborts its HTTP request; run honours the caller's signal", async () => {
    const server = fileServer();
    const c = await client(server);
    const controller = new AbortController();
    const before = api.requests.length;
    const pending = toolCall(c, { name: "slow", arguments: {} }, { signal: controller.signal });
    const outcome = pending.then(() => "resolved", () => "rejected");
    for (let i = 0; i < 400 && api.requests.length === before; i += 1) await new Promise((r) => setTimeout(r, 10));
    controller.abort("test cancels");
    assert.equal(await outcome, "rejected");
    const slowRequest = api.requests[before];
    assert.equal(slowRequest?.url, "/api/slow");
    for (let i = 0; i < 400 && !slowRequest.closedEarly; i += 1) await new Promise((r) => setTimeout(r, 10));
    assert.equal(slowRequest.closedEarly, true, "the API saw the request go away");

    const lease = await launcher.acquire(server, { sessionId: "s" });
    leases.push(lease);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(lease.run((cl) => toolList(cl), aborted.signal), (e: unknown) => isLaunchError(e, "ABORTED"));
    lease.release();
    await assert.rejects(lease.run((cl) => toolList(cl)), /already released/);
  });

  describe("broken documents fail prepare with PREPARE_FAILED and say where", () => {
    const cases: Array<[string, string, RegExp]> = [
      ["not-openapi.json", '{"hello": "world"}', /the OpenAPI document openapi\/not-openapi\.json is not an OpenAPI document: it has no `openapi` version field/],
      ["swagger.yaml", 'swagger: "2.0"\ninfo: {title: x, version: "1"}\npaths: {}\n', /openapi\/swagger\.yaml:1:1 is a Swagger 2\.0 document; only OpenAPI 3\.0 and 3\.1 are supported.*swagger2openapi/s],
      ["version.yaml", "openapi: 2.5.0\ninfo: {title: x, version: '1'}\npaths: {}\n", /openapi\/version\.yaml:1:1 has openapi: "2\.5\.0"; only 3\.0\.x and 3\.1\.x are supported/],
      [
        "bad-ref.yaml",
        "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'http://127.0.0.1:1'}]\npaths:\n  /a:\n    get:\n      operationId: a\n      parameters:\n        - $ref: '#/components/parameters/Nope'\n      responses: {'200': {description: ok}}\n",
        /openapi\/bad-ref\.yaml:9:\d+ has \$ref "#\/components\/parameters\/Nope", which does not resolve/,
      ],
      [
        "external-ref.yaml",
        "openapi: 3.1.0\ninfo: {title: x, version: '1'}\nservers: [{url: 'http://127.0.0.1:1'}]\npaths:\n  /a:\n    post:\n      requestBody: {content: {application/json: {schema: {$ref: 'other.yaml#/Pet'}}}}\n      responses: {'200': {description: ok}}\n",
        /points outside the document.*bundle/s,
      ],
      ["syntax.yaml", "openapi: 3.0.3\npaths:\n  /a: [unclosed\n", /the OpenAPI document openapi\/syntax\.yaml:\d+:\d+ is neither valid JSON nor valid YAML/],
      ["syntax.json", '{\n  "openapi": "3.1.0",\n}', /the OpenAPI document openapi\/syntax\.json:3 is neither valid JSON nor valid YAML/],
      ["relative.yaml", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: /v1}]\npaths:\n  /a:\n    get: {responses: {'200': {description: ok}}}\n", /gives GET \/a no absolute base URL: servers\[0\]\.url "\/v1" is relative and the document was read from a file.*router\.openapi\.baseUrl/s],
    ];
    for (const [file, content, expected] of cases) {
      it(file, async () => {
        await writeFile(join(root, "openapi", file), content);
        const server = openapiServer(`broken-${file.replace(/\W/g, "-")}`, { spec: `openapi/${file}` }, root);
        await assert.rejects(launcher.prepare(server), (e: unknown) => {
          assert.ok(isLaunchError(e, "PREPARE_FAILED"), String(e));
          assert.match(e.message, expected);
          assert.ok(e.message.startsWith(`MCP error -32014: ${server.prefix} (servers/${server.prefix}.yaml): the OpenAPI document `), e.message);
          return true;
        });
      });
    }

    it("a spec URL that answers 404, and a missing file", async () => {
      await assert.rejects(launcher.prepare(openapiServer("gone", { spec: new URL("/nothing.json", api.url).href })), /could not fetch the OpenAPI document http:\/\/127\.0\.0\.1:\d+\/nothing\.json: HTTP 404 \(PREPARE_FAILED\)/);
      await assert.rejects(launcher.prepare(openapiServer("nofile", { spec: "openapi/missing.yaml" }, root)), /router\.openapi\.spec refers to openapi\/missing\.yaml, which does not exist/);
    });
  });

  it("serves its tools through the real gateway over Streamable HTTP, loaded from a registry directory", async () => {
    await writeFile(
      join(root, "servers", "pets.yaml"),
      stringify({ name: "dev.mcp-router.test/pets", description: "The pets API", version: "1.0.0", router: { prefix: "pets", openapi: { spec: "openapi/pets.yaml", exclude: { tags: ["diagnostics"] } } } }),
    );
    const load = await loadRegistry(root);
    assert.deepEqual(load.diagnostics.filter((d) => d.file.endsWith("pets.yaml")), []);
    const dataDir = await mkdtemp(join(tmpdir(), "mcp-router-openapi-gw-"));
    const logger = pino({ level: "silent" });
    const runtime = await startGatewayRuntime({ servers: load.servers, launcher, dataDir, logger });
    await runtime.discovery.done;
    assert.deepEqual(Object.fromEntries(runtime.discovery.failed()), {});
    const http = await startHttpGateway({ gateway: runtime.gateway, logger, host: "127.0.0.1", port: 0, apiKeys: undefined });
    const { Client: SdkClient } = await import("@modelcontextprotocol/sdk/client/index.js");
    const mcp = new SdkClient({ name: "openapi-test", version: "1.0.0" });
    try {
      await mcp.connect(new StreamableHTTPClientTransport(new URL("/mcp", http.url)));
      const names = (await mcp.listTools()).tools.map((t) => t.name);
      assert.deepEqual(names.filter((n) => n.startsWith("pets__")).sort(), ["pets__createPet", "pets__deletePet", "pets__getPet", "pets__get_stores_id_inventory", "pets__get_thing", "pets__get_thing_2", "pets__listPets", "pets__whoami"]);
      const got = await mcp.callTool({ name: "pets__getPet", arguments: { petId: "1" } });
      assert.deepEqual(got.structuredContent, { id: 1, name: "Rex", tag: "dog" });
      const missing = await mcp.callTool({ name: "pets__getPet", arguments: { petId: "404" } });
      assert.equal(missing.isError, true);
      assert.match(text(missing), /^HTTP 404 Not Found from GET .*\/api\/pets\/404\n\{"error":"no pet 404"\}/);
    } finally {
      await mcp.close().catch(() => undefined);
      await http.close();
      await runtime.gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("OpenAPI mapping rules", () => {
  it("path globs: `*` is one segment, `**` any number, including none", () => {
    assert.equal(pathMatches("/pets/*", "/pets/{petId}"), true);
    assert.equal(pathMatches("/pets/*", "/pets"), false);
    assert.equal(pathMatches("/pets/**", "/pets"), true);
    assert.equal(pathMatches("/**/inventory", "/stores/{id}/inventory"), true);
    assert.equal(pathMatches("/stores/*", "/stores/{id}/inventory"), false);
    assert.equal(pathMatches("/pets/{petId}", "/pets/{petId}"), true);
  });

  it("tool names are valid and at most 64 characters; property names resolve collisions", () => {
    assert.equal(toolName("pets.list all/v2"), "pets_list_all_v2");
    assert.equal(toolName("Ünïcode!!"), "n_code");
    assert.equal(toolName("!!!"), "operation");
    assert.equal(toolName("x".repeat(100)).length, 64);
    assert.deepEqual(
      propertyNames([{ name: "id", in: "path" }, { name: "id", in: "query" }, { name: "body", in: "query" }, { name: "filter[status]", in: "query" }, { name: "X-Trace", in: "header" }], true),
      ["path_id", "query_id", "query_body", "filter_status_", "X-Trace"],
    );
  });

  it("serializes deepObject, form objects, label paths and form bodies", () => {
    const op = {
      tool: { name: "t", inputSchema: { type: "object" } },
      method: "post",
      path: "/items/{ids}",
      operationId: "t",
      baseUrl: new URL("https://api.example.test/v1/"),
      parameters: [
        { property: "ids", name: "ids", in: "path", required: true, style: "label", explode: false, json: false },
        { property: "filter", name: "filter", in: "query", required: false, style: "deepObject", explode: true, json: false },
        { property: "page", name: "page", in: "query", required: false, style: "form", explode: true, json: false },
        { property: "session", name: "session", in: "cookie", required: false, style: "form", explode: true, json: false },
      ],
      body: { property: "body", contentType: "application/x-www-form-urlencoded", required: false, encoding: "form" },
    } as OpenApiOperation;
    const plan = buildRequest(op, { ids: [1, 2], filter: { status: "open", owner: "ada" }, page: { size: 10, number: 2 }, session: "a b", body: { q: "x y", tag: ["a", "b"] } }, { headers: { authorization: "Bearer t0k3n" }, query: { key: "k" }, secretValues: [] });
    assert.equal(plan.method, "POST");
    assert.equal(plan.url.href, "https://api.example.test/v1/items/.1,2?filter%5Bstatus%5D=open&filter%5Bowner%5D=ada&size=10&number=2&key=k");
    assert.equal(plan.headers.cookie, "session=a%20b");
    assert.equal(plan.headers.authorization, "Bearer t0k3n");
    assert.equal(plan.headers["content-type"], "application/x-www-form-urlencoded");
    assert.equal(plan.body, "q=x+y&tag=a&tag=b");
  });
});
