import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { renderSizeClasses } from "../../../scripts/mksizeclasses.js";
import { initSizes, sizeClassRows, sizeToClass } from "../../../src/runtime/index.js";
import { sizeclasses } from "../../../src/runtime/testing.js";

// msize.c InitSizes' tables (class_to_size, class_to_allocnpages, size_to_class8), as printed
// by an independent size-class script.
const classToSize = [
  0, 8, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416,
  448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1664, 2048, 2304, 2560, 2816, 3072,
  3328, 4096, 4608, 5376, 6144, 6400, 6656, 6912, 8192, 8448, 8704, 9472, 10496, 12288, 13568, 14080, 16384,
  16640, 17664, 20480, 21248, 24576, 24832, 28416, 32768,
];
const classToAllocNPages = [
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1,
  2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4,
];
const sizeToClass8 = (
  "1 1 2 3 3 4 4 5 5 6 6 7 7 8 8 9 9 10 10 11 11 12 12 13 13 14 14 15 15 16 16 17 " +
  "17 18 18 18 18 19 19 19 19 20 20 20 20 21 21 21 21 22 22 22 22 23 23 23 23 24 24 24 24 25 25 25 " +
  "25 26 26 26 26 26 26 26 26 27 27 27 27 27 27 27 27 28 28 28 28 28 28 28 28 29 29 29 29 29 29 29 " +
  "29 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 31 31 31 31 31 31 31 31 31 31 31 31 31 31 31 0"
)
  .split(" ")
  .map(Number);
// Tail waste of each class's span (pages·8192 mod size), classes 1..66.
const tailWaste = [
  0, 0, 0, 32, 0, 32, 32, 16, 0, 128, 32, 96, 128, 80, 128, 32, 0, 128, 192, 96, 128, 288, 128, 32, 0, 128,
  512, 448, 512, 128, 0, 128, 512, 896, 512, 1408, 0, 256, 512, 2048, 1024, 1280, 0, 1536, 256, 0, 768, 1024,
  768, 0, 6656, 5632, 3072, 1280, 0, 256, 1024, 0, 7168, 4352, 0, 1792, 0, 7424, 512, 0,
];

describe("InitSizes", () => {
  const t = initSizes();

  it("computes msize.c's 67-class table", () => {
    expect(t.classToSize).toEqual(classToSize);
    expect(t.classToAllocNPages).toEqual(classToAllocNPages);
    expect(t.sizeToClass8).toEqual(sizeToClass8);
    expect(t.sizeToClass8).toHaveLength(129);
    expect(t.sizeToClass128).toHaveLength(249);
    expect(t.sizeToClass128[0]).toBe(31);
    expect(t.sizeToClass128[248]).toBe(66);
  });

  it("gives the objects, tail waste and smallest request of every class", () => {
    const rows = sizeClassRows(t);
    expect(rows).toHaveLength(66);
    expect(rows.map((r) => r.tailWaste)).toEqual(tailWaste);
    expect(rows[3]).toMatchObject({ class: 4, size: 48, pages: 1, objectsPerSpan: 170, smallestRequest: 33, alignment: 16 });
    expect(rows[65]).toMatchObject({ class: 66, size: 32768, pages: 4, objectsPerSpan: 1, smallestRequest: 28417 });
    for (const r of rows) expect(r.tailWaste).toBeLessThanOrEqual((r.pages * 8192) / 8);
  });

  it("maps every request to the smallest class that holds it", () => {
    for (let n = 1; n <= 32768; n++) {
      const cl = sizeToClass(n);
      expect(classToSize[cl]).toBeGreaterThanOrEqual(n);
      expect(classToSize[cl - 1]).toBeLessThan(n);
    }
  });

  it("switches tables at the 1016/1017/1024/1025 boundaries", () => {
    expect(sizeToClass(1016)).toBe(31);
    expect(sizeToClass(1017)).toBe(31);
    expect(sizeToClass(1024)).toBe(31);
    expect(sizeToClass(1025)).toBe(32);
    expect(sizeToClass(32768)).toBe(66);
    expect(sizeToClass(1)).toBe(1);
    expect(sizeToClass(9)).toBe(2);
  });

  it("keeps I16: sizes strictly increasing multiples of 8 up to 32768", () => {
    for (let i = 2; i < 67; i++) {
      expect(classToSize[i]! > classToSize[i - 1]!).toBe(true);
      expect(classToSize[i]! % 8).toBe(0);
    }
    // Rounding waste is not bounded by 12.5 %: 18.7 % at 2048 and 4096 (the merge rule).
    const worst = (cl: number) => (classToSize[cl]! - classToSize[cl - 1]! - 1) / classToSize[cl]!;
    expect(worst(37)).toBeCloseTo(0.187, 3);
    expect(worst(43)).toBeCloseTo(0.187, 2);
  });

  it("matches the generated sizeclasses.ts byte for byte", () => {
    const file = readFileSync(new URL("../../../src/runtime/sizeclasses.ts", import.meta.url), "utf8");
    expect(file).toBe(renderSizeClasses());
    expect(Array.from(sizeclasses.class_to_size)).toEqual(classToSize);
    expect(Array.from(sizeclasses.size_to_class8)).toEqual(sizeToClass8);
  });
});
