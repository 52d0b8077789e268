// The progress bar (with a fake clock and stream) and the replay's progress hook, which
// reports once per chunk of input.

import { gzipSync } from "node:zlib";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { replay } from "../../../src/index.js";
import { ProgressBar, QUIET_MS, REDRAW_MS } from "../../../src/report/progress.js";

/** A terminal stream that records what is written to it. */
function terminal(columns?: number): { out: string[]; stream: { write: (t: string) => boolean; columns?: number } } {
  const out: string[] = [];
  return { out, stream: { write: (t: string) => (out.push(t), true), ...(columns === undefined ? {} : { columns }) } };
}

describe("ProgressBar", () => {
  it("stays quiet at first, then redraws at most every REDRAW_MS, and erases itself", () => {
    let now = 1000;
    const { out, stream } = terminal();
    const bar = new ProgressBar(stream, () => now);
    bar.update(100, 1000, 5);
    now += QUIET_MS - 1;
    bar.update(200, 1000, 10);
    expect(out).toEqual([]);
    now += 1;
    bar.update(524288, 1048576, 2000);
    now += REDRAW_MS - 1;
    bar.update(600000, 1048576, 2100);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe("\r" + "replaying [████████████░░░░░░░░░░░░]  50%  0.5 MiB of 1.0 MiB  2,000 events, 4.0k events/s" + "\x1b[K");
    bar.done();
    expect(out[1]).toBe("\r\x1b[K");
  });

  it("without the input's size: bytes read and the event rate only", () => {
    const bar = new ProgressBar(terminal().stream, () => 0);
    expect(bar.line(3 * 1048576, null, 2_500_000, 2000)).toBe("replaying 3.0 MiB read  2,500,000 events, 1.3M events/s");
  });

  it("fits the terminal's width, and a bar never drawn is not erased", () => {
    const { out, stream } = terminal(40);
    const bar = new ProgressBar(stream, () => 0);
    expect(bar.line(1, 2, 3, 4)).toHaveLength(39);
    bar.done();
    expect(out).toEqual([]);
  });
});

describe("the replay's progress hook", () => {
  it("is called per chunk with bytes read, the file's size (not for gzip) and events so far", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "goalloc-progress-"));
    try {
      // About 200 KB: several 64 KiB chunks.
      const text = ["goalloc-trace 1", ...Array.from({ length: 12000 }, (_, i) => `a ${i} 24 flags=noscan\nd ${i}`)].join("\n") + "\n";
      const plainFile = path.join(dir, "t.trace");
      const gzFile = path.join(dir, "t.trace.gz");
      writeFileSync(plainFile, text);
      writeFileSync(gzFile, gzipSync(text));
      for (const [file, total] of [
        [plainFile, text.length],
        [gzFile, null],
      ] as const) {
        const calls: [number, number | null, number][] = [];
        const { report } = await replay(file, {}, undefined, { progress: (b, t, e) => calls.push([b, t, e]) });
        expect(calls.length).toBeGreaterThan(1);
        expect(calls.every(([, t]) => t === total)).toBe(true);
        expect(calls[calls.length - 1]![0]).toBe(text.length);
        // Bytes and events only grow; the hook runs before the parser's last line.
        for (let i = 1; i < calls.length; i++) {
          expect(calls[i]![0]).toBeGreaterThan(calls[i - 1]![0]);
          expect(calls[i]![2]).toBeGreaterThanOrEqual(calls[i - 1]![2]);
        }
        expect(calls[calls.length - 1]![2]).toBeLessThanOrEqual(report.trace.events);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
