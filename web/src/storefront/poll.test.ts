import { describe, expect, it } from "vitest";
import { nextPoll } from "./poll";

describe("nextPoll", () => {
  it("reads every second without an estimate or near the front", () => {
    expect(nextPoll(undefined)).toBe(1_000);
    expect(nextPoll(0)).toBe(1_000);
    expect(nextPoll(3)).toBe(1_000);
  });

  it("reads less often further back, at most every five seconds", () => {
    expect(nextPoll(8)).toBe(2_000);
    expect(nextPoll(20)).toBe(5_000);
    expect(nextPoll(600)).toBe(5_000);
  });
});
