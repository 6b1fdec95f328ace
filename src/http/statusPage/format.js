// Numbers, durations and times as an operator reads them.

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1,234 (or – when unknown). */
export const num = (n) => (n === null || n === undefined ? '–' : nf.format(n));

/** A rate: one decimal below 100. */
export const rate = (n) => (n === null || n === undefined ? '–' : n >= 100 ? nf.format(n) : nf1.format(n));

/** One decimal. */
export const dec = (n) => nf1.format(n);

/** 12 ms, 1.5 s. */
export function ms(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1) return '<1 ms';
  if (n < 1000) return `${nf.format(n)} ms`;
  return `${nf1.format(n / 1000)} s`;
}

/** 45s, 3m 10s, 2h 5m, 3d 4h. */
export function span(secondsTotal) {
  const s = Math.max(0, Math.round(secondsTotal));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

/** "3m 10s ago". */
export const ago = (epochMs) => (epochMs ? `${span((Date.now() - epochMs) / 1000)} ago` : '–');

/** "in 12s", or "now" once it has passed. */
export const until = (epochMs) => (epochMs <= Date.now() ? 'now' : `in ${span((epochMs - Date.now()) / 1000)}`);

/** 14:03:27 */
export const clock = (epochMs) => new Date(epochMs).toLocaleTimeString([], { hour12: false });

/** 11.6 KiB */
export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : nf1.format(n)} ${units[i]}`;
}

/** Breaker states in words. */
export const STATE_LABEL = { closed: 'closed', halfOpen: 'half-open', open: 'open' };

/** What a dependency actor is doing, in words. */
export const ACTIVITY_LABEL = {
  idle: 'idle',
  waitingForSlot: 'waiting for a free slot',
  waitingForToken: 'waiting for a rate-limit token',
  pausedForRetryAfter: 'paused by Retry-After',
  probing: 'probing',
  refusing: 'refusing calls',
  restarting: 'restarting after a crash',
};
