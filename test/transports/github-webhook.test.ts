/**
 * The push webhook's replay protection, over a real HTTP server on port 0: a delivery id seen
 * before is answered 200 `duplicate` without another fetch, an id is remembered only once its
 * delivery's signature verified, memory is bounded (the oldest id is forgotten first), and a
 * delivery without the id header is still served.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createGithubWebhookHandler } from "../../src/transports/github-webhook.js";

const SECRET = "webhook-secret-0123456789";

describe("GitHub webhook: replays", () => {
  const pushes: Array<string | undefined> = [];
  const handler = createGithubWebhookHandler({ secret: SECRET, branch: "main", onPush: (revision) => pushes.push(revision), rememberDeliveries: 3 });
  const server = createServer((req, res) => void handler(req, res));
  let url: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const deliver = async (delivery: string | undefined, options: { after?: string; forged?: boolean } = {}) => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: options.after ?? "c0ffee" });
    const signature = `sha256=${createHmac("sha256", options.forged ? "not-the-secret-0123" : SECRET).update(body).digest("hex")}`;
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signature, ...(delivery ? { "x-github-delivery": delivery } : {}) },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("fetches once for a delivery, and answers the same delivery again 200 duplicate without a fetch", async () => {
    pushes.length = 0;
    const first = await deliver("d-1", { after: "aaa" });
    assert.equal(first.status, 202);
    assert.equal(first.body.fetching, "aaa");
    const again = await deliver("d-1", { after: "aaa" });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { ok: true, duplicate: true, delivery: "d-1" });
    assert.deepEqual(pushes, ["aaa"]);
  });

  it("remembers an id only after its signature verified: a forged delivery cannot block the real one", async () => {
    pushes.length = 0;
    assert.equal((await deliver("d-2", { forged: true })).status, 401);
    assert.equal((await deliver("d-2", { after: "bbb" })).status, 202);
    assert.deepEqual(pushes, ["bbb"]);
  });

  it("keeps a bounded number of ids, forgetting the oldest first", async () => {
    pushes.length = 0;
    for (const id of ["e-1", "e-2", "e-3", "e-4"]) assert.equal((await deliver(id)).status, 202);
    assert.equal((await deliver("e-4")).status, 200, "a recent id is still known");
    assert.equal((await deliver("e-1")).status, 202, "the oldest id was forgotten (3 are kept)");
    assert.equal(pushes.length, 5);
  });

  it("serves a delivery without X-GitHub-Delivery", async () => {
    pushes.length = 0;
    assert.equal((await deliver(undefined)).status, 202);
    assert.equal((await deliver(undefined)).status, 202);
    assert.equal(pushes.length, 2);
  });
});
