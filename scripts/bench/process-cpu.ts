/**
 * CPU time of this process and every process below it (the local stack's emulators and
 * functions), from /proc (proc(5): `utime` and `stime`, fields 14 and 15 of /proc/PID/stat, in
 * clock ticks). Two snapshots around a run say how many CPU-seconds each part spent on it: when
 * the parts together use about as many seconds per second as the machine has cores, the run was
 * bound by CPU, not by any one part's concurrency.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Asked once, when a snapshot is first taken: every bench group imports this module. */
let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticksPerSecond;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return {
      pid,
      ppid: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond(),
    };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

/** A short name for a process from its command line: a function, an emulator, or the bench. */
function label(pid: number): string {
  let args: string[];
  try {
    args = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean);
  } catch {
    return 'exited';
  }
  if (pid === process.pid) return 'bench (load generator)';
  const joined = args.join(' ');
  const target = /--target[= ](\w+)/.exec(joined)?.[1];
  if (target) return `function ${target}`;
  if (joined.includes('cloud-firestore-emulator')) return 'Firestore emulator (java)';
  if (/pubsub[-_]emulator|cloud-pubsub/.test(joined)) return 'Pub/Sub emulator (java)';
  if (joined.includes('firebase')) return 'Auth emulator (firebase-tools)';
  const script = args.find((a) => /\.(js|ts|jar)$/.test(a));
  return script ? path.basename(script) : path.basename(args[0] ?? String(pid));
}

/** CPU-seconds so far of this process and all its descendants, by label. */
export function cpuByPart(): Map<string, number> {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(stat.pid, stat);
  }
  const children = new Map<number, number[]>();
  for (const stat of stats.values())
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  const out = new Map<string, number>();
  const queue = [process.pid];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    const stat = stats.get(pid);
    if (stat) {
      const name = label(pid);
      out.set(name, (out.get(name) ?? 0) + stat.cpuSeconds);
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** What each part spent between two snapshots, largest first (parts that spent nothing left out). */
export function cpuSpent(
  before: Map<string, number>,
  after: Map<string, number>,
): [string, number][] {
  return [...after]
    .map(([name, seconds]): [string, number] => [name, seconds - (before.get(name) ?? 0)])
    .filter(([, seconds]) => seconds > 0.005)
    .sort((a, b) => b[1] - a[1]);
}
