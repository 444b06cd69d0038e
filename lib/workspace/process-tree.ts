// Finding everything a sandboxed command started when it cannot run in a PID namespace of its own.
// A process group is not enough: a child that calls setsid() leaves the group, and once its parent
// exits it is re-parented to init, so the parent links are gone too. Every process of a run
// therefore carries a marker variable in its environment (inherited by default through fork and
// exec, setsid included); a process is the run's when it descends from the command or carries the
// marker. A process that scrubs its own environment after its parent exited escapes; only a PID
// namespace closes that gap (see sandbox.ts).
import { promises as fsp } from 'node:fs';

/** Environment variable that marks the processes of one sandbox run. */
export const RUN_MARKER_VARIABLE = 'SANDBOX_RUN_ID';

interface ProcessEntry {
  pid: number;
  parentPid: number;
  zombie: boolean;
}

async function readProcessEntry(pid: number): Promise<ProcessEntry | undefined> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, parentPid: Number(fields[1]), zombie: fields[0] === 'Z' };
  } catch {
    return undefined; // Gone since the directory was listed.
  }
}

async function carriesMarker(pid: number, marker: string): Promise<boolean> {
  try {
    const environ = await fsp.readFile(`/proc/${pid}/environ`);
    return environ.includes(Buffer.from(`\0${marker}\0`)) || environ.subarray(0, marker.length + 1).equals(Buffer.from(`${marker}\0`));
  } catch {
    return false; // Another user's process, or gone.
  }
}

/**
 * Live processes of one run: descendants of `rootPid` and every process whose environment holds
 * `SANDBOX_RUN_ID=<runId>`. Empty where /proc is not available.
 */
export async function findRunProcesses(rootPid: number | undefined, runId: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir('/proc');
  } catch {
    return [];
  }
  const entries = (await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readProcessEntry(Number(name))))).filter(
    (entry): entry is ProcessEntry => entry !== undefined && entry.pid !== process.pid,
  );
  const marker = `${RUN_MARKER_VARIABLE}=${runId}`;
  const members = new Set<number>();
  const marked = await Promise.all(entries.map((entry) => carriesMarker(entry.pid, marker)));
  entries.forEach((entry, i) => {
    if (marked[i] || entry.pid === rootPid) members.add(entry.pid);
  });
  // Descendants of any member, found by parent links until nothing new turns up.
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of entries) {
      if (!members.has(entry.pid) && members.has(entry.parentPid)) {
        members.add(entry.pid);
        grew = true;
      }
    }
  }
  return entries.filter((entry) => members.has(entry.pid) && !entry.zombie).map((entry) => entry.pid);
}

/** Send `signal` to every live process of the run; returns how many were signalled. */
export async function signalRunProcesses(rootPid: number | undefined, runId: string, signal: NodeJS.Signals): Promise<number> {
  let signalled = 0;
  for (const pid of await findRunProcesses(rootPid, runId)) {
    try {
      process.kill(pid, signal);
      signalled += 1;
    } catch {
      // Already gone.
    }
  }
  return signalled;
}
