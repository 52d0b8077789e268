// The native reader's live-ID table (trace/ids.ts): keys, handles, reuse and removal.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LiveIds, numericIdKey, numericIdText } from "../../../src/trace/ids.js";

const key = (text: string): number => {
  const bytes = Buffer.from(text, "utf8");
  return numericIdKey(bytes, 0, bytes.length);
};

/** find, and insert when absent: the handle of `text`. */
function add(ids: LiveIds, text: string): number {
  const bytes = Buffer.from(text, "utf8");
  const found = ids.find(bytes, 0, bytes.length);
  expect(found).toBeLessThan(0);
  return ids.insert(bytes, 0, bytes.length, found);
}

function lookup(ids: LiveIds, text: string): number {
  const bytes = Buffer.from(text, "utf8");
  const found = ids.find(bytes, 0, bytes.length);
  return found >= 0 ? found : -1;
}

describe("numericIdKey", () => {
  it("keys canonical decimals by value and canonical lowercase hex by -1 - value", () => {
    expect(key("0")).toBe(0);
    expect(key("4160")).toBe(4160);
    expect(key("999999999999999")).toBe(999_999_999_999_999);
    expect(key("0x1")).toBe(-2);
    expect(key("0xc208004000")).toBe(-1 - 0xc208004000);
    expect(key("0xfffffffffffff")).toBe(-1 - 0xfffffffffffff);
  });

  it("leaves every other token to its bytes (NaN), so distinct tokens never share a key", () => {
    for (const text of ["01", "00", "0x", "0x0", "0x01", "0xC2", "0x1g", "1000000000000000", "0x10000000000000", "-1", "1.5", "x", "é", ""]) {
      expect(key(text), text).toBeNaN();
    }
  });

  it("gives back the token a key stands for", () => {
    for (const text of ["0", "7", "123456789012345", "0x1", "0xc208004000"]) expect(numericIdText(key(text))).toBe(text);
  });
});

describe("LiveIds", () => {
  it("hands out dense handles and reuses the last released one first", () => {
    const ids = new LiveIds();
    expect([add(ids, "1"), add(ids, "0x10"), add(ids, "obj")]).toEqual([0, 1, 2]);
    expect(lookup(ids, "16")).toBe(-1);
    expect(lookup(ids, "0x10")).toBe(1);
    ids.release(1);
    ids.release(0);
    expect(lookup(ids, "0x10")).toBe(-1);
    expect(add(ids, "é")).toBe(0);
    expect(add(ids, "2")).toBe(1);
    expect(ids.handleLimit).toBe(3);
    expect([ids.name(0), ids.name(1), ids.name(2)]).toEqual(["é", "2", "obj"]);
  });

  it("keeps a text key's own copy of its bytes", () => {
    const ids = new LiveIds();
    const input = Buffer.from("a-1");
    const handle = ids.insert(input, 0, 3, ids.find(input, 0, 3));
    input.write("zzz");
    expect(ids.name(handle)).toBe("a-1");
    expect(lookup(ids, "a-1")).toBe(handle);
  });

  it("agrees with a Map over any sequence of inserts and releases, across growth", () => {
    const token = fc.oneof(
      fc.nat({ max: 5000 }).map(String),
      fc.nat({ max: 5000 }).map((n) => "0x" + n.toString(16)),
      fc.nat({ max: 300 }).map((n) => `id-${n}`),
      fc.constantFrom("01", "0x0", "é"),
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1500, maxLength: 3000 }), (tokens) => {
        const ids = new LiveIds();
        const model = new Map<string, number>();
        let mostLive = 0;
        for (const text of tokens) {
          const live = model.get(text);
          expect(lookup(ids, text)).toBe(live ?? -1);
          if (live === undefined) model.set(text, add(ids, text));
          else {
            ids.release(live);
            model.delete(text);
          }
          expect(ids.count).toBe(model.size);
          mostLive = Math.max(mostLive, model.size);
        }
        for (const [text, handle] of model) {
          expect(lookup(ids, text)).toBe(handle);
          expect(ids.name(handle)).toBe(text);
        }
        // Handles stay dense: no more are issued than IDs were ever live at once.
        expect(ids.handleLimit).toBe(mostLive);
      }),
      { numRuns: 30 },
    );
  });
});
