/**
 * The fuzz loop in a worker thread, so that an input that kills its process (a decoder that
 * allocates without end, an endless loop) still gets reported with its reproducer: the index
 * of the input in progress is published in shared memory before it runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runFuzz } from './core';

export interface WorkerTask {
  readonly seed: number;
  readonly from: number;
  readonly n: number;
  readonly only?: readonly string[];
  readonly deepJson?: boolean;
  /** Int32Array[1]: index of the input in progress. */
  readonly progress: SharedArrayBuffer;
}

const task = workerData as WorkerTask;
const current = new Int32Array(task.progress);

runFuzz({
  n: task.n,
  seed: task.seed,
  from: task.from,
  ...(task.only === undefined ? {} : { only: task.only }),
  ...(task.deepJson === undefined ? {} : { deepJson: task.deepJson }),
  onInput: (index) => Atomics.store(current, 0, index),
  reportEvery: 100_000,
  log: (line) => console.log(line),
}).then(
  (report) => parentPort?.postMessage(report),
  (e: unknown) => {
    throw e;
  },
);
