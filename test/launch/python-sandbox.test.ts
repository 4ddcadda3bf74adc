/**
 * The built-in python_sandbox tool, end to end: the server file of the bundled registry, its
 * image built by the launcher from the registry's Dockerfile (on a base image of Debian's Python
 * packages, see test/support/python-image.ts), and calls through the real DockerLauncher.
 * Skipped only when no engine answers AND CI is unset; under CI a missing engine fails this file.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Docker from "dockerode";
import { pino } from "pino";
import { callTool, listTools, toolCall } from "../../src/launch/call-tool.js";
import { DockerLauncher } from "../../src/launch/docker/docker-launcher.js";
import { isLaunchError } from "../../src/launch/errors.js";
import { builtImageTag } from "../../src/launch/docker/package-preparer.js";
import { staticSecretSource } from "../../src/secrets/secret-source.js";
import { loadRegistry } from "../../src/registry/loader.js";
import type { RegistryServer } from "../../src/registry/types.js";
import { containerGone, describeWhen, dockerUnlessCi, listOurContainers, testDataDir } from "../support/docker.js";
import { ensurePythonSandboxBase } from "../support/python-image.js";

const OWNER = "test-python-sandbox";
const SANDBOX_DIR = fileURLToPath(new URL("../../registry/sandboxes/python/", import.meta.url));
const TOOL = "python_sandbox";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const hasDocker = await dockerUnlessCi();

const docker = new Docker();
const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** The first content block: the exit code / stdout / stderr summary. */
function summary(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === "text", `expected a text block first, got ${JSON.stringify(result).slice(0, 500)}`);
  return first.text;
}

/** The stdout section of the summary. */
function stdout(result: CallToolResult): string {
  const match = /--- stdout ---\n([\s\S]*?)\n--- stderr/.exec(summary(result));
  return match?.[1] ?? "";
}

describeWhen(hasDocker, "built-in python_sandbox (real Docker engine)", {}, () => {
  let base: string;
  let server: RegistryServer;
  let launcher: DockerLauncher;
  const launchers: DockerLauncher[] = [];
  const progress: string[] = [];

  async function newLauncher(): Promise<DockerLauncher> {
    const l = await DockerLauncher.create({
      docker,
      logger,
      secrets: staticSecretSource({}, "the test environment"),
      dataDir: testDataDir(),
      owner: OWNER,
      pool: false,
      buildArgs: { BASE_IMAGE: base },
    });
    launchers.push(l);
    return l;
  }

  // The longest time limit the tool allows, so a busy test machine is not mistaken for slow code.
  const call = (args: Record<string, unknown>): Promise<CallToolResult> => callTool(launcher, server, TOOL, { timeout_seconds: 120, ...args });

  before(async () => {
    base = await ensurePythonSandboxBase();
    await Promise.all((await listOurContainers(OWNER)).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    const load = await loadRegistry(fileURLToPath(new URL("../../registry", import.meta.url)));
    const builtin = load.servers.find((s) => s.prefix === "builtin");
    assert.ok(builtin, `the bundled registry has registry/servers/builtin.yaml (diagnostics: ${JSON.stringify(load.diagnostics)})`);
    server = builtin;
    launcher = await newLauncher();
  });

  after(async () => {
    for (const l of launchers) await l.close();
    const left = await listOurContainers(OWNER);
    assert.deepEqual(left.map((c) => c.Id.slice(0, 12)), [], "no container of ours is left after the suite");
  });

  it("is a per-call, no-network server built from the registry's Dockerfile", () => {
    const router = server.entry.router;
    assert.equal(router?.lifecycle ?? "per-call", "per-call");
    assert.equal(router?.network ?? "none", "none");
    assert.equal(router?.build?.dockerfile, "sandboxes/python/Dockerfile");
    assert.deepEqual(router?.tools?.map((t) => t.name), [TOOL]);
  });

  it("the image tag follows the server version and the build args, not their order", () => {
    const tag = builtImageTag(server, { A: "1", BASE_IMAGE: "x" });
    assert.match(tag, /^mcp-router\/build:builtin-[0-9a-f]{20}$/);
    assert.equal(builtImageTag(server, { BASE_IMAGE: "x", A: "1" }), tag);
    assert.notEqual(builtImageTag(server, { A: "1", BASE_IMAGE: "y" }), tag);
    assert.notEqual(builtImageTag({ ...server, hash: `${server.hash}0` }, { A: "1", BASE_IMAGE: "x" }), tag);
  });

  it("prepare builds the image (progress streamed), and a second prepare is a cache hit", { timeout: 600_000 }, async () => {
    const tag = builtImageTag(server, { BASE_IMAGE: base });
    // Start from no image, so this run really builds it.
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    const t0 = performance.now();
    await launcher.prepare(server, (m) => progress.push(m));
    const buildMs = performance.now() - t0;
    assert.ok(progress.some((m) => m.includes(`building image ${tag}`)), progress.join("\n"));
    assert.ok(progress.some((m) => /Successfully tagged/.test(m)), progress.join("\n"));
    // The base already has the packages: the Dockerfile installs nothing (so it builds offline).
    assert.ok(!progress.some((m) => /Reading package lists|Get:\d+ http/.test(m)), `apt ran:\n${progress.join("\n")}`);
    const image = await docker.getImage(tag).inspect();
    assert.equal(image.Config.User, "65534:65534");
    assert.equal(image.Config.Labels?.["dev.mcp-router.server"], "builtin");

    // A new launcher (nothing in memory) finds the image by its tag instead of building again.
    const other = await newLauncher();
    const again: string[] = [];
    const t1 = performance.now();
    await other.prepare(server, (m) => again.push(m));
    const cachedMs = performance.now() - t1;
    assert.ok(again.some((m) => /is ready \(built earlier/.test(m)), again.join("\n"));
    assert.ok(!again.some((m) => /building image/.test(m)), again.join("\n"));
    assert.ok(cachedMs < 5_000, `cache hit took ${cachedMs} ms`);
    assert.equal(other.preparedImage(server), tag);
    process.stderr.write(`python_sandbox image: built in ${(buildMs / 1000).toFixed(1)} s, cache hit in ${cachedMs.toFixed(0)} ms, ${(image.Size / 1e6).toFixed(0)} MB\n`);
  });

  it("tools/list in the container matches the router.tools catalog of the registry file", async () => {
    const tools = await listTools(launcher, server);
    const catalog = server.entry.router?.tools ?? [];
    assert.deepEqual(
      tools.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema, annotations: t.annotations })),
      catalog.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema, annotations: t.annotations })),
    );
  });

  it("pandas, numpy, scipy and scikit-learn compute the right answers", async () => {
    const result = await call({
      code: [
        "import numpy as np, pandas as pd, scipy.stats as st",
        "from sklearn.linear_model import LinearRegression",
        "df = pd.DataFrame({'x': [1, 2, 3, 4], 'y': [3, 5, 7, 9]})",
        "print('sum', int(df['y'].sum()))",
        "print('mean', float(np.mean(df['x'])))",
        "m = LinearRegression().fit(df[['x']], df['y'])",
        "print('fit %.3f %.3f' % (m.coef_[0], m.intercept_))",
        "print('pvalue %.4f' % st.ttest_1samp([1, 2, 3, 4, 5], 3).pvalue)",
      ].join("\n"),
    });
    assert.equal(result.isError, false, summary(result));
    assert.match(summary(result), /^exit code: 0$/m);
    assert.equal(stdout(result), "sum 24\nmean 2.5\nfit 2.000 1.000\npvalue 1.0000\n");
  });

  it("matplotlib figures left open come back as PNG images, also when the code then raises", async () => {
    const ok = await call({
      code: "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.figure()\nplt.bar(['a', 'b'], [3, 5])\nplt.show()\nprint('drawn')",
    });
    assert.equal(ok.isError, false, summary(ok));
    assert.doesNotMatch(summary(ok), /non-GUI|cannot be shown/, "plt.show() is quiet");
    const images = ok.content.filter((c) => c.type === "image");
    assert.equal(images.length, 2, summary(ok));
    for (const image of images) {
      assert.ok(image.type === "image");
      assert.equal(image.mimeType, "image/png");
      assert.deepEqual(Buffer.from(image.data, "base64").subarray(0, 8), PNG_SIGNATURE);
    }

    const failed = await call({ code: "import matplotlib.pyplot as plt\nplt.plot([0, 1])\nraise ValueError('boom')" });
    assert.equal(failed.isError, true);
    assert.match(summary(failed), /ValueError: boom/);
    assert.equal(failed.content.filter((c) => c.type === "image").length, 1, "the figure drawn before the error is returned");
  });

  it("input files are readable by the code and requested result files come back", async () => {
    const result = await call({
      code: [
        "import pandas as pd",
        "df = pd.read_csv('data/in.csv')",
        "print('total', int(df.values.sum()))",
        "(df * 10).to_csv('out.csv', index=False)",
        "raw = open('blob.bin', 'rb').read()",
        "open('out.bin', 'wb').write(raw[::-1])",
      ].join("\n"),
      files: { "data/in.csv": { text: "a,b\n1,2\n3,4\n" }, "blob.bin": { base64: Buffer.from([0, 1, 2, 255]).toString("base64") } },
      return_files: ["out.csv", "out.bin", "missing.txt"],
    });
    assert.equal(result.isError, false, summary(result));
    assert.equal(stdout(result), "total 10\n");
    const resources = result.content.flatMap((c) => (c.type === "resource" ? [c.resource] : []));
    assert.equal(resources.length, 2, JSON.stringify(result.content));
    const csv = resources.find((r) => r.uri.endsWith("/out.csv"));
    assert.ok(csv && "text" in csv, "out.csv comes back as text");
    assert.equal(csv.text, "a,b\n10,20\n30,40\n");
    assert.equal(csv.mimeType, "text/csv");
    const bin = resources.find((r) => r.uri.endsWith("/out.bin"));
    assert.ok(bin && "blob" in bin, "out.bin comes back as a blob");
    assert.deepEqual([...Buffer.from(bin.blob, "base64")], [255, 2, 1, 0]);
    assert.match(summary(result), /note: missing\.txt was not found/);
  });

  it("rejects input paths that leave the working directory", async () => {
    await assert.rejects(call({ code: "print(1)", files: { "../etc/x": { text: "no" } } }), /must be a relative path inside the working directory/);
  });

  it("a nonzero exit is an error that carries stderr", async () => {
    const result = await call({ code: "import sys\nprint('partial')\nprint('something went wrong', file=sys.stderr)\nsys.exit(3)" });
    assert.equal(result.isError, true);
    assert.match(summary(result), /^exit code: 3$/m);
    assert.match(summary(result), /--- stderr ---\nsomething went wrong/);
    assert.equal(stdout(result), "partial\n");
  });

  it("an infinite loop hits the time limit, is reported as timed out, and its container is gone", async () => {
    const lease = await launcher.acquire(server, { sessionId: "loop" });
    const containerId = lease.containerId;
    const t0 = performance.now();
    let result: CallToolResult;
    try {
      result = (await lease.run((client, signal) => toolCall(client, { name: TOOL, arguments: { code: "print('spinning', flush=True)\nwhile True:\n    pass", timeout_seconds: 5 } }, { signal }))) as CallToolResult;
    } finally {
      lease.release();
    }
    const ms = performance.now() - t0;
    assert.equal(result.isError, true);
    assert.match(summary(result), /timed out after 5 s/);
    assert.match(summary(result), /spinning/, "output before the timeout is kept");
    assert.ok(ms < 30_000, `took ${ms} ms`);
    await containerGone(containerId);
  });

  it("a memory hog fails with an error, and the engine and the next call are fine", async () => {
    const hog = await call({ code: "chunks = []\nwhile True:\n    chunks.append(b'x' * (64 * 1024 * 1024))" });
    assert.equal(hog.isError, true);
    assert.match(summary(hog), /MemoryError|out of memory/, summary(hog));
    const huge = await call({ code: "x = bytearray(8 * 1024 ** 3)" });
    assert.equal(huge.isError, true);
    assert.match(summary(huge), /MemoryError/, summary(huge));
    await docker.ping();
    const next = await call({ code: "print(6 * 7)" });
    assert.equal(stdout(next), "42\n");
  });

  it("huge output is truncated and says so", async () => {
    const result = await call({ code: "import sys\nsys.stdout.write('x' * (8 * 1024 * 1024))\nsys.stderr.write('e' * (1024 * 1024))" });
    assert.equal(result.isError, false);
    const text = summary(result);
    assert.ok(text.length < 200 * 1024, `summary is ${text.length} characters`);
    assert.match(text, /\[\.\.\. output truncated: 8323072 more bytes not shown \(limit 65536 bytes\)\]/);
    assert.match(text, /\[\.\.\. output truncated: 983040 more bytes not shown/);
  });

  it("the network is unreachable from the code", async () => {
    // A port that answers on every host address, so only the sandbox's lack of network stops the code.
    const listener: Server = createServer((socket) => socket.end("hello\n"));
    await new Promise<void>((resolve) => listener.listen(0, "0.0.0.0", resolve));
    try {
      const port = (listener.address() as AddressInfo).port;
      const bridge = await docker.getNetwork("bridge").inspect();
      const gateway = (bridge.IPAM?.Config ?? []).map((c: { Gateway?: string }) => c.Gateway).find(Boolean) ?? "172.17.0.1";
      const result = await call({
        code: [
          "import socket",
          "print('interfaces', sorted(name for _, name in socket.if_nameindex()))",
          `for host in [${JSON.stringify(gateway)}, '1.1.1.1']:`,
          "    try:",
          `        socket.create_connection((host, ${port} if host != '1.1.1.1' else 443), timeout=3).close()`,
          "        print(host, 'CONNECTED')",
          "    except OSError as e:",
          "        print(host, 'unreachable:', e)",
        ].join("\n"),
      });
      assert.equal(result.isError, false, summary(result));
      const out = stdout(result);
      assert.match(out, /^interfaces \['lo'\]$/m);
      assert.doesNotMatch(out, /CONNECTED/);
      assert.match(out, new RegExp(`^${gateway.replace(/\./g, "\\.")} unreachable:`, "m"));
    } finally {
      listener.close();
    }
  });

  it("two calls share no files: each starts from an empty working directory", async () => {
    const first = await call({ code: "import os\nopen('left.txt', 'w').write('x')\nopen('/tmp/left.txt', 'w').write('x')\nprint(sorted(os.listdir('.')))" });
    assert.equal(stdout(first), "['left.txt']\n");
    const second = await call({ code: "import os\nprint(sorted(os.listdir('.')), os.path.exists('/tmp/left.txt'))" });
    assert.equal(stdout(second), "[] False\n");
  });

  it("runs as an unprivileged user on a read-only root filesystem", async () => {
    const result = await call({
      code: "import os\nprint(os.getuid(), os.getgid())\ntry:\n    open('/opt/x', 'w')\nexcept OSError as e:\n    print('read-only', e.errno)",
    });
    assert.equal(stdout(result), "65534 65534\nread-only 30\n");
  });
  describe("router.build in other registries", () => {
    const dirs: string[] = [];

    /** A registry in a temp folder with one build server, loaded like the bundled one. */
    async function tempBuildServer(prefix: string, build: string, files: Record<string, string>): Promise<RegistryServer> {
      const dir = await mkdtemp(join(tmpdir(), "mcp-router-build-"));
      dirs.push(dir);
      await mkdir(join(dir, "servers"), { recursive: true });
      await writeFile(join(dir, "servers", `${prefix}.yaml`), `name: dev.mcp-router.test/${prefix}\ndescription: build test\nversion: 1.0.0\nrouter:\n  prefix: ${prefix}\n  build:\n${build}`);
      for (const [name, text] of Object.entries(files)) {
        await mkdir(join(dir, name, ".."), { recursive: true });
        await writeFile(join(dir, name), text);
      }
      const load = await loadRegistry(dir);
      assert.deepEqual(load.diagnostics, []);
      const loaded = load.servers[0];
      assert.ok(loaded);
      return loaded;
    }

    after(async () => {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    it("a failing build is PREPARE_FAILED with the last build output and a hint", async () => {
      const failing = await tempBuildServer("failing", "    dockerfile: img/Dockerfile\n", {
        "img/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo 'compiling the thing' && echo 'fatal: it broke' >&2 && exit 3\n",
      });
      await assert.rejects(launcher.prepare(failing), (error: unknown) => {
        assert.ok(isLaunchError(error, "PREPARE_FAILED"), String(error));
        assert.match(error.message, /building image mcp-router\/build:failing-\w+ from img\/Dockerfile with BASE_IMAGE=/);
        assert.match(error.message, /returned a non-zero code: 3/);
        assert.match(error.message, /last build output:[\s\S]*fatal: it broke/);
        assert.match(error.hint, /docker build -f .*img\/Dockerfile/);
        return true;
      });
    });

    it("a base image that cannot be pulled fails at once, with how to build offline", async () => {
      const unpullable = await tempBuildServer("unpullable", "    dockerfile: img/Dockerfile\n", {
        "img/Dockerfile": "FROM registry.invalid/nothing/here:1\nRUN true\n",
      });
      const t0 = Date.now();
      await assert.rejects(launcher.prepare(unpullable), (error: unknown) => {
        assert.ok(isLaunchError(error, "PREPARE_FAILED"), String(error));
        assert.match(error.hint, /MCP_ROUTER_BUILD_ARGS=BASE_IMAGE=<tag>/);
        return true;
      });
      console.log(`unpullable base image refused after ${Date.now() - t0} ms`);
    });

    it("a Dockerfile outside its context is built from a staged copy, and router.build.command is the entrypoint", async () => {
      const copy = await tempBuildServer("sandbox-copy", "    dockerfile: docker/Dockerfile\n    context: ctx\n    command: [python3, -u, /srv/sandbox/server.py]\n", {
        // No ENTRYPOINT: only router.build.command makes this image an MCP server.
        "docker/Dockerfile": "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY server.py runner.py /srv/sandbox/\nUSER 65534:65534\n",
        "ctx/server.py": await readFile(join(SANDBOX_DIR, "server.py"), "utf8"),
        "ctx/runner.py": await readFile(join(SANDBOX_DIR, "runner.py"), "utf8"),
      });
      await docker.getImage(builtImageTag(copy, { BASE_IMAGE: base })).remove({ force: true }).catch(() => undefined);
      const steps: string[] = [];
      await launcher.prepare(copy, (m) => steps.push(m));
      assert.ok(steps.some((m) => /COPY server\.py runner\.py/.test(m)), steps.join("\n"));
      const result = await callTool(launcher, copy, TOOL, { code: "print('from the copy')", timeout_seconds: 120 });
      assert.equal(stdout(result), "from the copy\n");
    });
  });
});
