/**
 * `npm exec -- node tools/bench/profile-summary.ts PROFILE.cpuprofile [--skip-ms N] [--top N]`: where
 * a process spent its CPU, from a V8 CPU profile (`node --cpu-prof`; for the gateway under load:
 * `npm run bench -- --gateway-node-options="--cpu-prof --cpu-prof-dir=DIR"`). Prints self time by
 * package or project folder, by file, and by function, busiest first; idle and GC are listed apart;
 * and "by project caller": every sample charged to the nearest project function on its stack (so
 * time in Node, the SDKs and native code is charged to the project code that asked for it), and
 * inclusive time by project function (everything that ran under it).
 * `--skip-ms` leaves out the first N ms of the profile (start-up and module loading), so a level's
 * steady state can be compared between two versions; `--under FN` keeps only the samples with a
 * project function whose name (`name file:line`) contains FN on their stack (e.g. `#onFrame`). A tool: exit 2 on bad usage, else 0.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per key, busiest first. */
export type Tally = Array<[key: string, ms: number]>;

/** Where a script URL belongs: a package (`node_modules/<name>`), a project folder, or Node itself. */
export function ownerOf(url: string, root: string): string {
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 14).split('/');
    return `node_modules/${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const rel = path.relative(root, file);
  if (rel.startsWith('..')) return file;
  const parts = rel.split(path.sep);
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : rel;
}

/** Self time of the profile after `skipMs`, by owner, by file and by function. */
export function summarizeProfile(
  p: CpuProfile,
  root: string,
  skipMs = 0,
  under?: string,
): {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  owners: Tally;
  files: Tally;
  functions: Tally;
  callers: Tally;
  inclusive: Tally;
} {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ours = (url: string) => url.startsWith('file://') && !url.includes('/node_modules/');
  const callers = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const nameOf = (f: { functionName: string; url: string; lineNumber: number }) =>
    `${f.functionName || '(anonymous)'} ${shortUrl(f.url, root)}:${f.lineNumber + 1}`;
  /** Every project function on the sample's stack, once each. */
  const projectStack = (id: number): Set<string> => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f && ours(f.url)) seen.add(nameOf(f));
    }
    return seen;
  };
  const callerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f && ours(f.url)) return `${f.functionName || '(anonymous)'} ${shortUrl(f.url, root)}:${f.lineNumber + 1}`;
    }
    return '(no project frame)';
  };
  const owners = new Map<string, number>();
  const files = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let t = 0;
  let total = 0;
  let idle = 0;
  let gc = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipMs * 1000) return;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const stack = projectStack(id);
    if (under !== undefined && ![...stack].some((fn) => fn.includes(under))) return;
    total += dt;
    if (frame.functionName === '(idle)') return void (idle += dt);
    if (frame.functionName === '(garbage collector)') gc += dt;
    const owner = frame.functionName.startsWith('(') ? frame.functionName : ownerOf(frame.url, root);
    add(owners, owner, dt);
    const file = frame.url
      ? ownerOf(frame.url, root).endsWith('/') || owner.startsWith('node_modules')
        ? shortUrl(frame.url, root)
        : owner
      : owner;
    add(files, file, dt);
    add(functions, `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`, dt);
    add(callers, callerOf(id), dt);
    for (const fn of stack) add(inclusive, fn, dt);
  });
  const sorted = (m: Map<string, number>): Tally =>
    [...m].map(([k, us]) => [k, us / 1000] as [string, number]).sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    gcMs: gc / 1000,
    owners: sorted(owners),
    files: sorted(files),
    functions: sorted(functions),
    callers: sorted(callers),
    inclusive: sorted(inclusive),
  };
}

function shortUrl(url: string, root: string): string {
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = file.lastIndexOf('/node_modules/');
  return nm >= 0 ? file.slice(nm + 1) : path.relative(root, file);
}

function main(): number {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'skip-ms': { type: 'string', default: '0' },
      top: { type: 'string', default: '25' },
      root: { type: 'string' },
      under: { type: 'string' },
    },
  });
  const file = positionals[0];
  const skip = Number(values['skip-ms']);
  const top = Number(values.top);
  if (!file || !(skip >= 0) || !(top >= 1)) {
    process.stderr.write(
      'usage: profile-summary.ts PROFILE.cpuprofile [--skip-ms N] [--top N] [--root DIR] [--under FN]\n',
    );
    return 2;
  }
  const root = values.root ?? path.resolve(import.meta.dirname, '..', '..');
  const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, root, skip, values.under);
  const busy = s.totalMs - s.idleMs;
  const show = (title: string, t: Tally) => {
    console.log(`\n${title}`);
    for (const [k, ms] of t.slice(0, top))
      console.log(`${ms.toFixed(0).padStart(8)} ms ${((ms / busy) * 100).toFixed(1).padStart(5)} %  ${k}`);
  };
  const scope = values.under === undefined ? '' : ` under ${values.under}`;
  console.log(
    `${file}${scope}: ${s.totalMs.toFixed(0)} ms sampled after ${skip} ms, busy ${busy.toFixed(0)} ms (GC ${s.gcMs.toFixed(0)} ms), idle ${s.idleMs.toFixed(0)} ms`,
  );
  show('self time by package / folder', s.owners);
  show('self time by file', s.files);
  show('self time by function', s.functions);
  show('time by project caller (the nearest project function on the stack)', s.callers);
  show('inclusive time by project function (everything under it)', s.inclusive);
  return 0;
}

if (import.meta.main) process.exitCode = main();
