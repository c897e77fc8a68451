import { describe, expect, it } from "vitest";
import { saneLanguage } from "./locale";

describe("saneLanguage", () => {
  it("keeps a valid tag and replaces C, which Intl refuses", () => {
    const valid = { language: "de-CH" } as Navigator;
    expect(saneLanguage(valid)).toBe("de-CH");
    const c = { language: "C" } as Navigator;
    expect(() => new Intl.NumberFormat(c.language)).toThrow();
    expect(saneLanguage(c)).toBe("en-US");
    expect(c.language).toBe("en-US");
    expect(() => new Intl.NumberFormat(c.language)).not.toThrow();
  });
});
