// Timeline: the heap over the course of a replay, in bounded memory for any trace length.
//
// The replay engine calls TimelineRecorder.observe after every event with the figures it
// already computed for the peaks; observe only updates running maxima and, now and then,
// closes a point. A sample is due after every event that ran a collection (NumGC moved) and
// every `interval` events (0: at collections only). Points live in typed-array columns of
// TIMELINE_POINTS entries. When they are full, neighbours are merged pairwise and from then
// on each point absorbs twice as many samples, so the points stay evenly spread over the
// samples however long the trace is. A point's HeapAlloc, HeapInuse, HeapSys, NextGC and
// HeapObjects are the maxima over every event it covers (a spike between two samples still
// shows); its event, line and NumGC are those of its last event.

/** Points kept at most, the open one included (even, so that pairs merge exactly). */
export const TIMELINE_POINTS = 2048;

/**
 * Events between two samples by default. Every event: the running maxima are kept per event
 * anyway, so a sample costs a few stores, and short traces get one point per event.
 */
export const DEFAULT_TIMELINE_INTERVAL = 1;

/** One point of the timeline (JSON `timeline.points[i]`). */
export interface TimelinePoint {
  /** The last event the point covers (events are counted from 1). */
  event: number;
  /** Trace line of that event. */
  line: number;
  HeapAlloc: number;
  HeapInuse: number;
  HeapSys: number;
  NextGC: number;
  /** Collections so far, at the point's last event. */
  NumGC: number;
  /** Live heap objects (Mallocs − Frees at that instant). */
  HeapObjects: number;
}

/** JSON `timeline`. */
export interface Timeline {
  /** Events between samples (0: at collections only). */
  interval: number;
  /** Samples merged into each point (doubles whenever the points fill up). */
  samplesPerPoint: number;
  points: TimelinePoint[];
}

export class TimelineRecorder {
  private readonly event = new Float64Array(TIMELINE_POINTS);
  private readonly line = new Float64Array(TIMELINE_POINTS);
  private readonly heapAlloc = new Float64Array(TIMELINE_POINTS);
  private readonly heapInuse = new Float64Array(TIMELINE_POINTS);
  private readonly heapSys = new Float64Array(TIMELINE_POINTS);
  private readonly nextGC = new Float64Array(TIMELINE_POINTS);
  private readonly numGC = new Float64Array(TIMELINE_POINTS);
  private readonly objects = new Float64Array(TIMELINE_POINTS);
  private n = 0;
  private samplesPerPoint = 1;

  // The open point: maxima since the last closed point, and how many samples it holds.
  private accSamples = 0;
  private accEvents = 0;
  private accAlloc = 0;
  private accInuse = 0;
  private accSys = 0;
  private accNextGC = 0;
  private accObjects = 0;
  private lastEvent = 0;
  private lastLine = 0;
  private lastNumGC = 0;
  private nextSample: number;

  constructor(readonly interval: number = DEFAULT_TIMELINE_INTERVAL) {
    if (!Number.isSafeInteger(interval) || interval < 0) throw new RangeError(`timeline interval must be a non-negative integer, got ${interval}`);
    this.nextSample = interval === 0 ? Number.POSITIVE_INFINITY : interval;
  }

  /** After an event: the figures the engine's peaks were updated with. */
  observe(event: number, line: number, heapAlloc: number, heapInuse: number, heapSys: number, nextGC: number, numGC: number, objects: number): void {
    if (heapAlloc > this.accAlloc) this.accAlloc = heapAlloc;
    if (heapInuse > this.accInuse) this.accInuse = heapInuse;
    if (heapSys > this.accSys) this.accSys = heapSys;
    if (nextGC > this.accNextGC) this.accNextGC = nextGC;
    if (objects > this.accObjects) this.accObjects = objects;
    this.accEvents++;
    this.lastEvent = event;
    this.lastLine = line;
    if (numGC === this.lastNumGC && event < this.nextSample) return;
    this.lastNumGC = numGC;
    if (this.interval > 0) this.nextSample = event + this.interval;
    if (++this.accSamples < this.samplesPerPoint) return;
    this.close();
    // Halving as soon as the columns fill leaves room for the open point in timeline().
    if (this.n === TIMELINE_POINTS) this.halve();
  }

  /** Store the open point and start a new one. */
  private close(): void {
    const i = this.n++;
    this.event[i] = this.lastEvent;
    this.line[i] = this.lastLine;
    this.heapAlloc[i] = this.accAlloc;
    this.heapInuse[i] = this.accInuse;
    this.heapSys[i] = this.accSys;
    this.nextGC[i] = this.accNextGC;
    this.numGC[i] = this.lastNumGC;
    this.objects[i] = this.accObjects;
    this.accSamples = 0;
    this.accEvents = 0;
    this.accAlloc = 0;
    this.accInuse = 0;
    this.accSys = 0;
    this.accNextGC = 0;
    this.accObjects = 0;
  }

  /** Merge neighbours pairwise: maxima of the values, event/line/NumGC of the later one. */
  private halve(): void {
    const half = this.n >> 1;
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      this.event[j] = this.event[b]!;
      this.line[j] = this.line[b]!;
      this.numGC[j] = this.numGC[b]!;
      this.heapAlloc[j] = Math.max(this.heapAlloc[a]!, this.heapAlloc[b]!);
      this.heapInuse[j] = Math.max(this.heapInuse[a]!, this.heapInuse[b]!);
      this.heapSys[j] = Math.max(this.heapSys[a]!, this.heapSys[b]!);
      this.nextGC[j] = Math.max(this.nextGC[a]!, this.nextGC[b]!);
      this.objects[j] = Math.max(this.objects[a]!, this.objects[b]!);
    }
    this.n = half;
    this.samplesPerPoint *= 2;
  }

  /** The points, the open one included when it covers any event (the recorder is unchanged). */
  timeline(): Timeline {
    const points: TimelinePoint[] = [];
    for (let i = 0; i < this.n; i++) {
      points.push({
        event: this.event[i]!,
        line: this.line[i]!,
        HeapAlloc: this.heapAlloc[i]!,
        HeapInuse: this.heapInuse[i]!,
        HeapSys: this.heapSys[i]!,
        NextGC: this.nextGC[i]!,
        NumGC: this.numGC[i]!,
        HeapObjects: this.objects[i]!,
      });
    }
    if (this.accEvents > 0) {
      points.push({
        event: this.lastEvent,
        line: this.lastLine,
        HeapAlloc: this.accAlloc,
        HeapInuse: this.accInuse,
        HeapSys: this.accSys,
        NextGC: this.accNextGC,
        NumGC: this.lastNumGC,
        HeapObjects: this.accObjects,
      });
    }
    return { interval: this.interval, samplesPerPoint: this.samplesPerPoint, points };
  }
}
