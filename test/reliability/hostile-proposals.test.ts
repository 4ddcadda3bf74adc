/**
 * Reliability: privileged settings that hostile READMEs and model answers try to slip into a
 * proposal (test/fixtures/hostile). Each attempt must come out of the proposer dropped and listed
 * in the pull request body; none may stay in the proposed file. No Docker needed.
 */
import { after, describe, it } from "node:test";
import { runHostileCorpus } from "../support/hostile-corpus.js";
import { Figures } from "./figures.js";

const figures = new Figures("hostile proposals");

describe("reliability: hostile proposals", () => {
  after(() => figures.print());

  it("privileged settings a proposal tried", async () => {
    await figures.scenario("privileged settings a proposal tried", async () => {
      const outcomes = await runHostileCorpus();
      const tried = outcomes.reduce((n, o) => n + o.case.attempts.length, 0);
      const unflagged = outcomes.flatMap((o) => o.unlisted.map((a) => `${o.case.name}: ${a}`));
      const carried = outcomes.flatMap((o) => o.carried.map((c) => `${o.case.name}: ${c}`));
      figures.check(
        "privileged settings a proposal tried",
        `${tried} tried in ${outcomes.length} READMEs and model answers; ${unflagged.length} unflagged, ${carried.length} left in a proposed file`,
        "0 unflagged, 0 left in a proposed file",
        tried > 0 && unflagged.length === 0 && carried.length === 0,
        [...unflagged, ...carried].join("\n"),
      );
    });
  });
});
