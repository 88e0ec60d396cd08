import { describe, expect, it } from "vitest";
import { allPages, nextCursor } from "./exports";

describe("nextCursor", () => {
  it("reads the cursor of a next link", () => {
    expect(nextCursor('</sessions/S/attendees?limit=1000&next=pista.eyJQSyI6>; rel="next"')).toBe(
      "pista.eyJQSyI6",
    );
  });
  it("is undefined without a link or with another relation", () => {
    expect(nextCursor(null)).toBeUndefined();
    expect(nextCursor('</x?next=a>; rel="prev"')).toBeUndefined();
  });
});

describe("allPages", () => {
  it("follows the links and joins the pages in order", async () => {
    const pages: Record<string, { text: string; link: string | null }> = {
      first: { text: "ticket,seat\nT1,A-1\n", link: '</a?next=two>; rel="next"' },
      two: { text: "T2,A-2\n", link: '</a?next=three>; rel="next"' },
      three: { text: "T3,", link: null },
    };
    const asked: (string | undefined)[] = [];
    const csv = await allPages(async (next) => {
      asked.push(next);
      const page = pages[next ?? "first"];
      if (!page) throw new Error(`no page ${next}`);
      return page;
    });
    expect(asked).toEqual([undefined, "two", "three"]);
    expect(csv).toBe("ticket,seat\nT1,A-1\nT2,A-2\nT3,\n");
  });
});
