import fs from 'node:fs';
import path from 'node:path';
import { LOG_EVENT_NAMES } from '../../server/log-events.ts';
import { isLogEvent } from '../../server/log-fields.ts';

const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const logsSection = readme.slice(readme.indexOf('\n## Logs'), readme.indexOf('\n## ', readme.indexOf('\n## Logs') + 1));

/** Every product source file (the catalogue itself excluded). */
function productSources(): string {
  const out: string[] = [fs.readFileSync(path.join(root, 'gateway.ts'), 'utf8')];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('log-events.ts')) out.push(fs.readFileSync(p, 'utf8'));
    }
  };
  for (const d of ['server', 'routes', 'media', 'config']) walk(path.join(root, d));
  return out.join('\n');
}

describe('the log event catalogue', () => {
  it('is listed in full in the README Logs section', () => {
    const missing = LOG_EVENT_NAMES.filter((name) => !logsSection.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('is all the README Logs section lists as events', () => {
    const listed = [...logsSection.matchAll(/^\| `([A-Za-z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(50);
    expect(listed.filter((name) => !(LOG_EVENT_NAMES as readonly string[]).includes(name!))).toEqual([]);
  });

  it('names only events the code can log', () => {
    const code = productSources();
    expect(LOG_EVENT_NAMES.filter((name) => !code.includes(`'${name}'`))).toEqual([]);
  });
});

describe('isLogEvent', () => {
  it('tells a parsed record of one event from the others', () => {
    const turn: Record<string, unknown> = { level: 'info', message: 'TURN', turn: 0, overheadMs: 1.5 };
    expect(isLogEvent(turn, 'TURN') && turn.overheadMs).toBe(1.5);
    expect(isLogEvent(turn, 'BARGE_IN')).toBe(false);
    expect(isLogEvent({ message: 'TURN_COMMIT' }, 'TURN')).toBe(false);
  });
});
