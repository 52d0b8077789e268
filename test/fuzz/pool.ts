// Running fuzz cases on worker threads, each case bounded in time.
//
// A case that loops forever cannot be stopped from inside its own thread, so every case runs
// on a worker and the pool keeps the clock: a worker that does not answer within the timeout
// is terminated (that is a hang), one that dies (an uncaught exception from a stream callback,
// running out of its heap limit) is a crash; either way the lane starts a fresh worker and
// goes on with the next case.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { FuzzCase } from "./cases.js";
import type { CaseResult } from "./run-case.js";

export interface PoolOptions {
  workers: number;
  /** A case that takes longer is a hang. */
  timeoutMs: number;
  /** Old-generation heap limit of each worker: running out is a crash, not the end of the run. */
  heapLimitMb?: number;
}

/**
 * The worker is TypeScript: its thread loads tsx's loader first (tsx's `--import` does not
 * reach worker threads on Node 20), then the worker module.
 */
function bootstrap(): string {
  const tsx = import.meta.resolve("tsx/esm/api");
  const worker = new URL("./worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(worker)}); });`;
}

async function startWorker(file: string, heapLimitMb: number): Promise<Worker> {
  const worker = new Worker(bootstrap(), { eval: true, workerData: file, resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return worker;
}

/** Run c on worker; `dead` when the worker had to be terminated or died. */
function runOne(worker: Worker, c: FuzzCase, timeoutMs: number): Promise<{ result: CaseResult; dead: boolean }> {
  const started = performance.now();
  const failure = (detail: string): CaseResult => ({ index: c.index, verdict: "failure", detail, ms: performance.now() - started, lines: 0, events: 0 });
  return new Promise((resolve) => {
    const settle = (result: CaseResult, dead: boolean): void => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      resolve({ result, dead });
    };
    const onMessage = (result: CaseResult): void => settle(result, false);
    const onError = (error: Error): void => settle(failure(`uncaught exception in the worker: ${error.stack ?? error.message}`), true);
    const onExit = (code: number): void => settle(failure(`the worker exited (code ${code})`), true);
    const timer = setTimeout(() => {
      void worker.terminate();
      settle(failure(`hang: no result after ${timeoutMs} ms`), true);
    }, timeoutMs);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    worker.postMessage(c);
  });
}

/** Run every case `next` gives (until it returns null), reporting each result as it comes. */
export async function runPool(next: () => FuzzCase | null, options: PoolOptions, onResult: (c: FuzzCase, result: CaseResult) => void): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "goalloc-fuzz-"));
  const heapLimitMb = options.heapLimitMb ?? 1024;
  const lane = async (n: number): Promise<void> => {
    const file = path.join(dir, `case-${n}.trace`);
    let worker: Worker | null = null;
    try {
      for (let c = next(); c !== null; c = next()) {
        worker ??= await startWorker(file, heapLimitMb);
        const { result, dead } = await runOne(worker, c, options.timeoutMs);
        if (dead) {
          await worker.terminate();
          worker = null;
        }
        onResult(c, result);
      }
    } finally {
      await worker?.terminate();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.workers }, (_, n) => lane(n)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
