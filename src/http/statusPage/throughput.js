// Per-source throughput and backlog over the last minutes, and their small charts.
import { svg } from './dom.js';

const SERIES_POINTS = 150; // 5 minutes of 2 s snapshots

/** Per-source points { in, out, pending } derived from successive /stats snapshots. */
export class Throughput {
  constructor() {
    this.series = new Map();
    this.previous = undefined;
  }

  /** Adds one point per source from a /stats answer (rates from the counters' change since the last one). */
  record(stats) {
    const now = Date.parse(stats.at);
    const prev = this.previous;
    // A poll right after a snapshot would turn a tiny interval into a spike.
    if (prev && now - prev.at < 1000) return;
    for (const [name, src] of Object.entries(stats.sources)) {
      let series = this.series.get(name);
      if (!series) this.series.set(name, (series = []));
      const before = prev && prev.sources[name];
      const dt = prev ? (now - prev.at) / 1000 : 0;
      series.push({
        in: before && dt > 0 ? Math.max(0, (src.received - before.received) / dt) : 0,
        out: before && dt > 0 ? Math.max(0, (src.processed - before.processed) / dt) : 0,
        pending: src.pending || 0,
      });
      if (series.length > SERIES_POINTS) series.shift();
    }
    this.previous = { at: now, sources: stats.sources };
  }

  /** The points of one source, oldest first. */
  points(name) {
    return this.series.get(name) || [];
  }
}

/** One small chart: in/out rates as lines on one scale, waiting as an area on its own scale. */
export function chart(points) {
  const W = 300;
  const H = 48;
  const root = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  root.append(svg('line', { class: 'grid', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
  if (points.length === 0) return root;
  // The window grows with the data, from 1 minute up to 5.
  const step = W / (Math.min(SERIES_POINTS, Math.max(30, points.length)) - 1);
  const x = (i) => W - (points.length - 1 - i) * step;
  const scale = (max) => (v) => H - 1.5 - ((v || 0) / Math.max(max, 1e-9)) * (H - 5);
  const path = (key, y) => points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`);
  // A handful waiting should not look like a flood.
  const yWait = scale(Math.max(10, ...points.map((p) => p.pending)));
  const waiting = path('pending', yWait);
  root.append(svg('polygon', { class: 'area-pending', points: `${x(0).toFixed(1)},${H} ${waiting.join(' ')} ${W},${H}` }));
  root.append(svg('polyline', { class: 'line-pending', points: waiting.join(' ') }));
  const yRate = scale(Math.max(1, ...points.map((p) => Math.max(p.in, p.out))));
  root.append(svg('polyline', { class: 'line-in', points: path('in', yRate).join(' ') }));
  root.append(svg('polyline', { class: 'line-out', points: path('out', yRate).join(' ') }));
  return root;
}
