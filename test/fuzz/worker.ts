// A fuzz worker thread: runs the cases the pool sends, one at a time, and posts each result.
// Its scratch file (workerData) is where the case's input is written for replay().

import { parentPort, workerData } from "node:worker_threads";
import type { FuzzCase } from "./cases.js";
import { runCase } from "./run-case.js";

const port = parentPort;
if (port === null) throw new Error("test/fuzz/worker.ts runs as a worker thread of test/fuzz/pool.ts");
const file = workerData as string;
port.on("message", (c: FuzzCase) => {
  void runCase(c, file).then((result) => port.postMessage(result));
});
port.postMessage("ready");
