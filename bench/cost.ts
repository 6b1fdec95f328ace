/**
 * What a webhook costs, for the benchmarks: CPU time of each process (from
 * /proc, steadier than throughput on a shared machine), messages into and
 * out of nats-server (its monitoring endpoint) and writes JetStream
 * persisted (the last sequence of every stream).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { JetStreamManager } from '@nats-io/jetstream';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** One process's parent and CPU ticks; undefined once it has exited. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The live children of `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (procStat(Number(name))?.ppid === pid) out.push(Number(name));
  }
  return out;
}

/** CPU time in µs of `pid` alone. */
export function cpuMicros(pid: number): number {
  return ((procStat(pid)?.ticks ?? 0) * 1e6) / TICKS_PER_SECOND;
}

/** The processes of a benchmark run, by role. */
export interface CostedProcesses {
  /** The service process that runs processing (and the edge when it has no edge processes). */
  service: number;
  /** nats-server. */
  nats: number;
}

/**
 * CPU µs of each role at one moment: the service's edge processes (its
 * children), the service's main process (processing, when it runs it), and
 * nats-server.
 */
export interface CpuSample {
  edge: number;
  primary: number;
  nats: number;
}

/**
 * Samples the CPU time of each role. The edge processes are the service's
 * children (node:cluster workers), counted only while alive: sample before
 * they exit.
 */
export function sampleCpu(p: CostedProcesses): CpuSample {
  const edge = childrenOf(p.service).reduce((sum, pid) => sum + cpuMicros(pid), 0);
  return { edge, primary: cpuMicros(p.service), nats: cpuMicros(p.nats) };
}

/** nats-server's message and byte counters (`/varz`). */
export interface NatsTraffic {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}

/** Reads `/varz` of nats-server's monitoring port. */
export async function natsTraffic(monitorUrl: string): Promise<NatsTraffic> {
  const v = (await (await fetch(`${monitorUrl}/varz`)).json()) as NatsTraffic;
  return { in_msgs: v.in_msgs, out_msgs: v.out_msgs, in_bytes: v.in_bytes, out_bytes: v.out_bytes };
}

/** Messages JetStream has persisted so far: the sum of every stream's last sequence. */
export async function persistedWrites(jsm: JetStreamManager): Promise<number> {
  let total = 0;
  for await (const s of jsm.streams.list()) total += s.state.last_seq;
  return total;
}

/** Everything measured at one moment. */
export interface CostSample {
  cpu: CpuSample;
  traffic: NatsTraffic;
  writes: number;
}

/** Takes a {@link CostSample}. */
export async function sampleCost(p: CostedProcesses, monitorUrl: string, jsm: JetStreamManager): Promise<CostSample> {
  return { cpu: sampleCpu(p), traffic: await natsTraffic(monitorUrl), writes: await persistedWrites(jsm) };
}

/** Per-webhook figures between two samples. */
export interface CostPerWebhook {
  cpuMicros: CpuSample & { total: number };
  msgsIn: number;
  msgsOut: number;
  writes: number;
}

/** What `webhooks` cost between `before` and `after`, per webhook. */
export function perWebhook(before: CostSample, after: CostSample, webhooks: number): CostPerWebhook {
  const per = (a: number, b: number) => (b - a) / Math.max(1, webhooks);
  const edge = per(before.cpu.edge, after.cpu.edge);
  const primary = per(before.cpu.primary, after.cpu.primary);
  const nats = per(before.cpu.nats, after.cpu.nats);
  return {
    cpuMicros: { edge, primary, nats, total: edge + primary + nats },
    msgsIn: per(before.traffic.in_msgs, after.traffic.in_msgs),
    msgsOut: per(before.traffic.out_msgs, after.traffic.out_msgs),
    writes: per(before.writes, after.writes),
  };
}

/** Two lines for the console. */
export function costLines(c: CostPerWebhook): string[] {
  const us = (n: number) => `${n.toFixed(0)} µs`;
  return [
    `cpu      per webhook: edge processes ${us(c.cpuMicros.edge)}, main process ${us(c.cpuMicros.primary)}, nats-server ${us(c.cpuMicros.nats)}, total ${us(c.cpuMicros.total)}`,
    `nats     per webhook: ${c.msgsIn.toFixed(2)} messages in, ${c.msgsOut.toFixed(2)} out, ${c.writes.toFixed(2)} persisted writes`,
  ];
}
