/**
 * What a test can read of a local stack process through Linux's /proc: which process listens on
 * a port, and its peak resident memory. The stack runs every function as a plain process of the
 * same user on loopback, so nothing needs to be exposed for this.
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

/** The inode of the socket listening on `port` (state 0A is LISTEN in /proc/net/tcp). */
function listeningInode(port: number): string | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns[1]?.endsWith(`:${hexPort}`) && columns[3] === '0A') return columns[9];
    }
  }
  return undefined;
}

/** The process that listens on a loopback TCP port. */
export function pidListeningOn(port: number): number {
  const inode = listeningInode(port);
  if (inode === undefined) throw new Error(`nothing listens on port ${String(port)}`);
  const target = `socket:[${inode}]`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === target) return Number(entry);
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  throw new Error(`no process holds the socket listening on port ${String(port)}`);
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} in /proc/${String(pid)}/status`);
  return Number(match[1]);
}

/**
 * Resets the process's peak RSS to its current RSS (proc(5): writing 5 to clear_refs, Linux
 * 4.0+), so a peak read later belongs to what happened since, not to an earlier test.
 */
export function resetPeakRss(pid: number): number {
  writeFileSync(`/proc/${String(pid)}/clear_refs`, '5');
  return statusKiB(pid, 'VmHWM') * 1024;
}

/** The process's peak RSS (VmHWM) in bytes since its start or the last reset. */
export function peakRss(pid: number): number {
  return statusKiB(pid, 'VmHWM') * 1024;
}
