import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { keepStreamAlive } from "../../src/transports/sse-keepalive.js";

it("an idle event stream gets comment lines until the client goes, then nothing more is written", async () => {
  let closed!: () => void;
  const serverSideClosed = new Promise<void>((resolve) => (closed = resolve));
  let writesAfterClose = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    keepStreamAlive(res, 10);
    res.once("close", () => {
      const write = res.write.bind(res);
      res.write = ((...args: Parameters<typeof write>) => {
        writesAfterClose++;
        return write(...args);
      }) as typeof res.write;
      closed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: controller.signal });
  const reader = res.body!.getReader();
  let text = "";
  while ((text.match(/: keepalive\n\n/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
  assert.match(text, /^(: keepalive\n\n)+$/, "only SSE comments, which clients ignore");
  controller.abort();
  await serverSideClosed;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(writesAfterClose, 0, "the timer stopped with the stream");
  await new Promise((resolve) => server.close(resolve));
});
