import { describe, expect, it } from "vitest";
import { fromBase64Url, type Kit, readCode, verifyCode } from "./code";

// Signed by the box office's signer (`shared/src/domain/ticket.rs`) with the in-process test key.
const SEATED =
  "AZBrsxNXcgGTwAAAAAAAAAAAAAANTAEBk8AAAAAAAAAAAAAADLgBavMjYAdwbGF0ZWlhAQACAAQYXOU6kczeK6mT1mkJ2ss-vNJ8F83Rmjbp1edQ_yTIm3p1a-j9MuP-oneqSWvo9vDjtCBobNGKOTPvyAJMaJ0P";
const STANDING =
  "AZBrsxNXcgGTwAAAAAAAAAAAAAANTAIBk8AAAAAAAAAAAAAADLgBavMjYAVwaXN0YQAymTsNBzlVcev_3MCaA60_fjyejdM-Mlon82qAsJg2NJf-6aJZ_3vV3u1GXcNAWd3bVbElkI2NyijgouttbwEM";
const SESSION = "01JF000000000000000000SE01";
const kit: Kit = {
  session_id: SESSION,
  keys: [{ id: "kGuzE1dy", public_key: "uuORlQ4KbXvZP0hQHTHlwrsgjQRFkO4y25PANLQQOrk" }],
  revoked: [],
  generated_at: "2026-11-10T14:00:00Z",
};

describe("a ticket's code at the door", () => {
  it("says what it admits, as the box office signed it", async () => {
    expect(readCode(SEATED)?.admission).toEqual({
      ticket: "01JF000000000000000000TK01",
      session: SESSION,
      sector: "plateia",
      seat: "C-4",
      issuedAt: new Date("2026-11-10T14:00:00Z"),
      keyId: "kGuzE1dy",
    });
    const standing = await verifyCode(STANDING, kit, SESSION);
    expect(standing.ok && standing.admission.seat).toBeNull();
    expect((await verifyCode(SEATED, kit, SESSION)).ok).toBe(true);
  });

  it("refuses an altered, unknown, foreign or revoked code", async () => {
    const bytes = fromBase64Url(SEATED) as Uint8Array;
    const at = bytes.length - 65; // the seat's number
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    const altered = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(await verifyCode(altered, kit, SESSION)).toEqual({ ok: false, refusal: "forged" });
    expect(await verifyCode(SEATED, { ...kit, keys: [] }, SESSION)).toEqual({
      ok: false,
      refusal: "unknownKey",
    });
    expect(await verifyCode(SEATED, kit, "01JF000000000000000000SE02")).toEqual({
      ok: false,
      refusal: "wrongSession",
    });
    expect(
      await verifyCode(SEATED, { ...kit, revoked: ["01JF000000000000000000TK01"] }, SESSION),
    ).toEqual({ ok: false, refusal: "revoked" });
    for (const garbage of ["", "not a code", SEATED.slice(0, 60)]) {
      expect(await verifyCode(garbage, kit, SESSION)).toEqual({ ok: false, refusal: "malformed" });
    }
  });
});
