/**
 * The agents file: validated like the environment (every problem with its path), defaults filled
 * in, the agent chosen by the number dialled, and one agent from the environment without a file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AgentsError, loadAgents, parseAgents } from '../../config/agents.ts';

const ENV = { greeting: 'שלום', instructions: 'ענה בעברית' };
const TOOL = {
  name: 'book_appointment',
  description: 'קובע תור',
  parameters: { type: 'object', properties: { date: { type: 'string' } }, required: ['date'] },
  url: 'https://crm.example.com/tools/book',
};
const GOOD = {
  defaultAgent: 'main',
  agents: [
    {
      id: 'main',
      numbers: ['+97231234567'],
      greeting: 'שלום {{name}}',
      instructions: 'את נציגה',
      tools: [TOOL],
      transfer: { sales: '+97250123456,ww12' },
    },
    { id: 'sales', numbers: ['+97239999999'], greeting: 'מכירות', instructions: 'מכירות', voice: 'he-IL-Wavenet-B' },
  ],
};

function problems(doc: unknown): string[] {
  try {
    parseAgents(doc);
  } catch (err) {
    if (err instanceof AgentsError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('agents file', () => {
  it('chooses the agent by the number dialled and falls back to the default', () => {
    const agents = parseAgents(GOOD);
    expect(agents.forNumber('+97239999999').id).toBe('sales');
    expect(agents.forNumber('+97231234567').id).toBe('main');
    expect(agents.forNumber('+15550001111').id).toBe('main');
    expect(agents.forNumber(undefined).id).toBe('main');
  });

  it('fills defaults: maxToolRounds 3, tool timeout, context timeout 800', () => {
    const agents = parseAgents({
      ...GOOD,
      agents: [{ ...GOOD.agents[0], context: { url: 'https://crm.example.com/ctx' } }],
    });
    const a = agents.defaultAgent;
    expect(a.maxToolRounds).toBe(3);
    expect(a.tools[0]!.timeoutMs).toBe(5000);
    expect(a.context).toEqual({ url: 'https://crm.example.com/ctx', timeoutMs: 800 });
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('lists every problem with its path', () => {
    const bad = {
      defaultAgent: 'nobody',
      agents: [
        {
          id: 'main',
          numbers: ['031234567'],
          greeting: '',
          instructions: 'x',
          tools: [TOOL, { ...TOOL, name: 'end_call', parameters: { type: 'string' } }, TOOL],
          transfer: { sales: 'tel:123' },
          surprise: true,
        },
      ],
    };
    const p = problems(bad);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agents\[0\]\.numbers\[0\]: expected an E\.164 number/),
        expect.stringMatching(/^agents\[0\]\.greeting: /),
        expect.stringMatching(/^agents\[0\]\.tools\[1\]\.name: is a built-in tool name/),
        expect.stringMatching(/^agents\[0\]\.tools\[1\]\.parameters: the parameters schema must have "type": "object"/),
        expect.stringMatching(/^agents\[0\]\.tools\[2\]\.name: duplicate tool name/),
        expect.stringMatching(/^agents\[0\]\.transfer\.sales: expected an E\.164 number/),
        expect.stringMatching(/^agents\[0\]: .*surprise/),
        expect.stringMatching(/^defaultAgent: no agent has id "nobody"/),
      ]),
    );
  });

  it('says what a missing defaultAgent is for', () => {
    const p = problems({ agents: [{ id: 'a', greeting: 'x', instructions: 'y' }] });
    expect(p).toEqual(['defaultAgent: required: the id of the agent that answers numbers no agent lists']);
  });

  it('refuses a broken JSON Schema and a number answered by two agents', () => {
    const doc = {
      defaultAgent: 'a',
      agents: [
        {
          id: 'a',
          numbers: ['+97231234567'],
          greeting: 'x',
          instructions: 'y',
          tools: [{ ...TOOL, parameters: { type: 'object', properties: { d: { type: 'nope' } } } }],
        },
        { id: 'b', numbers: ['+97231234567'], greeting: 'x', instructions: 'y' },
      ],
    };
    expect(problems(doc)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^agents\[0\]\.tools\[0\]\.parameters: invalid JSON Schema/),
        expect.stringMatching(/^agents\[1\]\.numbers\[0\]: \+97231234567 is already answered by "a"/),
      ]),
    );
  });

  it('reads JSON and YAML files, and names the file when it cannot be read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agents-'));
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify(GOOD));
    fs.writeFileSync(
      path.join(dir, 'a.yaml'),
      'defaultAgent: main\nagents:\n  - id: main\n    greeting: שלום\n    instructions: ענה\n    fillers: [רגע, שנייה]\n',
    );
    fs.writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(loadAgents(path.join(dir, 'a.json'), ENV).byId.size).toBe(2);
    expect(loadAgents(path.join(dir, 'a.yaml'), ENV).defaultAgent.fillers).toEqual(['רגע', 'שנייה']);
    expect(() => loadAgents(path.join(dir, 'bad.json'), ENV)).toThrow(/bad\.json[\s\S]*\(file\): /);
    expect(() => loadAgents(path.join(dir, 'missing.json'), ENV)).toThrow(AgentsError);
  });

  it('without a file there is one agent from the environment, with no tools and no transfers', () => {
    const agents = loadAgents(undefined, ENV);
    expect(agents.fromFile).toBe(false);
    expect(agents.defaultAgent).toMatchObject({
      id: 'default',
      greeting: 'שלום',
      instructions: 'ענה בעברית',
      tools: [],
      transfer: {},
      fillers: [],
    });
    expect(agents.forNumber('+97231234567').id).toBe('default');
  });
});
