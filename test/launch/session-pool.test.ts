/** SessionPool as a unit: fake instances, no Docker and no network. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isLaunchError } from "../../src/launch/errors.js";
import { SessionPool } from "../../src/launch/session-pool.js";
import type { SessionPoolOptions } from "../../src/launch/session-pool.js";
import type { Lifecycle, RegistryServer } from "../../src/registry/types.js";
import { npmPackage, testServer } from "../support/servers.js";

interface Fake {
  readonly id: number;
  readonly server: string;
  readonly session: string;
  dead: boolean;
  closed: string | undefined;
}

function server(prefix: string, lifecycle: Lifecycle): RegistryServer {
  return testServer(prefix, npmPackage("@modelcontextprotocol/server-everything"), { lifecycle });
}

/** A pool over fakes that records what it opened and closed; `gate` holds opens until released. */
function fakePool(extra: Partial<SessionPoolOptions<Fake>> = {}) {
  const opened: Fake[] = [];
  const closes: Array<{ id: number; why: string }> = [];
  const waiters: Array<() => void> = [];
  let gate: Promise<void> | undefined;
  let failNext: Error | undefined;
  /** Opens fakes of `s`, waiting at the gate if one is set. */
  const open =
    (s: RegistryServer) =>
    async (session: string): Promise<Fake> => {
      if (gate) await gate;
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      const fake: Fake = { id: opened.length + 1, server: s.prefix, session, dead: false, closed: undefined };
      opened.push(fake);
      return fake;
    };
  const sessions = new SessionPool<Fake>({
    alive: (fake) => !fake.dead && fake.closed === undefined,
    close: (fake, why) => {
      assert.equal(fake.closed, undefined, `instance ${fake.id} closed twice`);
      fake.closed = why;
      closes.push({ id: fake.id, why });
      for (const wake of waiters.splice(0)) wake();
    },
    idleMs: 60_000,
    ...extra,
  });
  const pool = {
    acquire: (s: RegistryServer, sessionId: string) => sessions.acquire(s, sessionId, open(s)),
    endSession: (sessionId: string) => sessions.endSession(sessionId),
    retire: (s: RegistryServer) => sessions.retire(s),
    tracks: (s: RegistryServer) => sessions.tracks(s),
    close: () => sessions.close(),
  };
  return {
    pool,
    opened,
    closes,
    /** Resolves once the fake was closed (by whatever path), whenever that is. */
    async closedOf(fake: Fake): Promise<string> {
      // The pool's idle timers are unref'd: keep the test's event loop alive while it waits for one.
      const keepAlive = setInterval(() => undefined, 1_000);
      try {
        while (fake.closed === undefined) await new Promise<void>((resolve) => waiters.push(resolve));
        return fake.closed;
      } finally {
        clearInterval(keepAlive);
      }
    },
    hold(): () => void {
      let open: () => void = () => undefined;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    failNextOpen(error: Error): void {
      failNext = error;
    },
  };
}

describe("SessionPool", () => {
  it("per-session: one instance per client session, kept across acquires", async () => {
    const { pool, opened } = fakePool();
    const s = server("ps", "per-session");
    const a1 = await pool.acquire(s, "a");
    assert.equal(a1.reused, false);
    a1.release();
    const a2 = await pool.acquire(s, "a");
    assert.equal(a2.reused, true);
    assert.equal(a2.instance, a1.instance);
    const b = await pool.acquire(s, "b");
    assert.notEqual(b.instance, a1.instance);
    assert.deepEqual(
      opened.map((f) => f.session),
      ["a", "b"],
    );
    a2.release();
    b.release();
    await pool.close();
  });

  it("shared: one instance for every session; concurrent first acquires open it once", async () => {
    const { pool, opened, hold } = fakePool();
    const s = server("sh", "shared");
    const go = hold();
    const both = Promise.all([pool.acquire(s, "a"), pool.acquire(s, "b")]);
    go();
    const [a, b] = await both;
    assert.equal(a.instance, b.instance);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.session, "", "a shared instance belongs to no session");
    assert.deepEqual([a.reused, b.reused], [false, true]);
    a.release();
    b.release();
    await pool.close();
  });

  it("endSession closes that session's instances only, and never a shared one", async () => {
    const { pool, closes } = fakePool();
    const ps = server("ps", "per-session");
    const sh = server("sh", "shared");
    for (const held of [await pool.acquire(ps, "a"), await pool.acquire(ps, "b"), await pool.acquire(sh, "a")]) held.release();
    await pool.endSession("a");
    assert.deepEqual(closes, [{ id: 1, why: "session ended" }]);
    const again = await pool.acquire(ps, "a");
    assert.equal(again.reused, false, "a new session instance after the old one ended");
    again.release();
    await pool.close();
  });

  it("an instance that died is replaced on the next acquire", async () => {
    const { pool, closes } = fakePool();
    const s = server("ps", "per-session");
    const first = await pool.acquire(s, "a");
    first.instance.dead = true;
    const second = await pool.acquire(s, "a");
    assert.notEqual(second.instance, first.instance);
    assert.equal(second.reused, false);
    assert.deepEqual(closes, [{ id: 1, why: "died; restarting" }]);
    for (const held of [first, second]) held.release();
    await pool.close();
  });

  it("a failed open is not kept: the error reaches the caller and the next acquire opens again", async () => {
    const { pool, failNextOpen } = fakePool();
    const s = server("ps", "per-session");
    failNextOpen(new Error("engine hiccup"));
    await assert.rejects(pool.acquire(s, "a"), /engine hiccup/);
    const held = await pool.acquire(s, "a");
    assert.equal(held.reused, false);
    held.release();
    await pool.close();
  });

  it("retire: idle instances close at once, busy ones at their last release; then the version is forgotten", async () => {
    const { pool, closes, closedOf } = fakePool();
    const s = server("ps", "per-session");
    const idle = await pool.acquire(s, "idle");
    idle.release();
    const busy = await pool.acquire(s, "busy");
    const busyToo = await pool.acquire(s, "busy");
    await pool.retire(s);
    assert.deepEqual(closes, [{ id: 1, why: "retired" }]);
    assert.equal(pool.tracks(s), true, "a busy instance keeps the version tracked");
    busy.release();
    busy.release();
    assert.equal(closes.length, 1, "release is idempotent and one lease is still held");
    busyToo.release();
    assert.equal(await closedOf(busy.instance), "retired");
    assert.deepEqual(closes[1], { id: 2, why: "retired" });
    assert.equal(pool.tracks(s), false);
    const fresh = await pool.acquire(s, "busy");
    assert.equal(fresh.reused, false, "acquiring a retired version again opens a new instance");
    fresh.release();
    await pool.close();
  });

  it("an idle per-session instance expires; a later acquire before that keeps it", async () => {
    const { pool, closedOf } = fakePool({ idleMs: 1 });
    const s = server("ps", "per-session");
    const held = await pool.acquire(s, "a");
    held.release();
    assert.equal(await closedOf(held.instance), "session idle");
    const next = await pool.acquire(s, "a");
    assert.equal(next.reused, false);
    next.release();
    await pool.close();
  });

  it("an idle shared instance lives until retired, unless expireShared", async () => {
    const kept = fakePool({ idleMs: 1 });
    const expiring = fakePool({ idleMs: 1, expireShared: true });
    const s = server("sh", "shared");
    const a = await kept.pool.acquire(s, "a");
    const b = await expiring.pool.acquire(s, "a");
    a.release();
    b.release();
    assert.equal(await expiring.closedOf(b.instance), "session idle");
    // The expiring pool's timer has fired; the other pool never set one.
    assert.equal(a.instance.closed, undefined);
    assert.equal((await kept.pool.acquire(s, "z")).instance, a.instance);
    await kept.pool.close();
    await expiring.pool.close();
  });

  it("close: every instance closes, an open in flight closes when it lands, later acquires fail", async () => {
    const { pool, opened, closes, hold } = fakePool();
    const s = server("ps", "per-session");
    (await pool.acquire(s, "a")).release();
    const go = hold();
    const late = pool.acquire(s, "b");
    const closing = pool.close();
    go();
    await assert.rejects(late, (e: unknown) => isLaunchError(e, "LAUNCHER_CLOSED"));
    await closing;
    assert.equal(opened.length, 2);
    assert.deepEqual(
      closes.map((c) => c.why),
      ["launcher closed", "launcher closed"],
    );
    await assert.rejects(pool.acquire(s, "c"), (e: unknown) => isLaunchError(e, "LAUNCHER_CLOSED"));
  });
});
