/**
 * What the demo starts before its call: the four emulators (Google STT and TTS, OpenAI, the
 * business's CRM) scripted with the demo's conversation, a temporary DATA_DIR for the call store,
 * the demo's agents file pointed at the CRM emulator, and the gateway's environment. The gateway
 * child itself and the teardown are in `run-demo.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentsError, loadAgents, type Agent } from '../../config/agents.ts';
import { startFakeCrm, startFakeOpenAI, startFakeStt, startFakeTts } from '../emulators/index.ts';
import type { FakeCrm, FakeOpenAI, FakeStt, FakeTts } from '../emulators/index.ts';
import { REPO_ROOT } from '../gateway-child.ts';
import {
  BOOKING_DELAY_MS,
  BOOKING_TOOL,
  bookingAnswer,
  CLINIC_NUMBER,
  contextAnswer,
  scriptedTranscripts,
  scriptedTurn,
} from './conversation.ts';

/** The demo's agents file, repository-relative. */
export const AGENTS_TEMPLATE_PATH = 'tools/demo/agents.yaml';
/** The placeholder origin of the CRM URLs in {@link AGENTS_TEMPLATE_PATH}, replaced by the CRM emulator's. */
export const CRM_PLACEHOLDER = 'http://crm.demo.invalid';
/** Prefix of the temporary DATA_DIR (under the system's temp directory). */
export const DATA_DIR_PREFIX = 'demo-data-';

/** Something the demo needs is missing or broken; the message says what. */
export class DemoSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoSetupError';
  }
}

/** The emulators, as far as they were started (each is closed by the caller). */
export interface Emulators {
  stt?: FakeStt;
  tts?: FakeTts;
  openai?: FakeOpenAI;
  crm?: FakeCrm;
}

/**
 * Starts the emulators one by one into `into` (so whatever started can be closed if a later one
 * fails). The CRM checks every request's `X-Gateway-Signature` with `secret` and refuses (401) any
 * that does not verify.
 */
export async function startEmulators(into: Emulators, voice: 'espeak' | 'tone', secret: string): Promise<void> {
  into.stt = await startFakeStt({ transcript: scriptedTranscripts() });
  into.tts = await startFakeTts({ voice });
  into.openai = await startFakeOpenAI({ reply: ({ body }) => scriptedTurn(body) });
  into.crm = await startFakeCrm({
    secret,
    requireSignature: true,
    context: { body: contextAnswer },
    tools: { [BOOKING_TOOL]: { delayMs: BOOKING_DELAY_MS, body: bookingAnswer } },
  });
}

/** A fresh WEBHOOK_SECRET for one run (the gateway signs with it, the CRM emulator verifies). */
export function newWebhookSecret(): string {
  return randomBytes(24).toString('hex');
}

/** Creates the temporary DATA_DIR: the call store, the recordings and the agents file go there. */
export function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), DATA_DIR_PREFIX));
}

/**
 * Writes the demo's agents file into `dir` with the CRM URLs on `crmUrl`, and reads it back with the
 * gateway's own loader (the gateway validates it again when it starts).
 * @throws DemoSetupError when the template is missing, lacks the placeholder, or does not validate.
 */
export async function writeAgentsFile(dir: string, crmUrl: string): Promise<{ file: string; agent: Agent }> {
  const template = await readFile(path.join(REPO_ROOT, AGENTS_TEMPLATE_PATH), 'utf8').catch((err: Error) => {
    throw new DemoSetupError(`cannot read the demo's agents file ${AGENTS_TEMPLATE_PATH}: ${err.message}`);
  });
  if (!template.includes(CRM_PLACEHOLDER))
    throw new DemoSetupError(`${AGENTS_TEMPLATE_PATH} has no ${CRM_PLACEHOLDER} URLs for the CRM emulator`);
  const file = path.join(dir, 'agents.yaml');
  await writeFile(file, template.replaceAll(CRM_PLACEHOLDER, crmUrl));
  try {
    const agents = loadAgents(file, { greeting: '-', instructions: '-' });
    return { file, agent: agents.forNumber(CLINIC_NUMBER) };
  } catch (err) {
    if (err instanceof AgentsError) throw new DemoSetupError(`${AGENTS_TEMPLATE_PATH}: ${err.message}`);
    throw err;
  }
}

/** The gateway's settings on top of the shared base (nothing is inherited from the shell). */
export function gatewayEnv(
  e: Required<Emulators>,
  files: { dataDir: string; agentsFile: string },
  secret: string,
): Record<string, string> {
  return {
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    DEPLOY_ID: 'demo',
    GOOGLE_STT_EMULATOR_HOST: e.stt.address,
    GOOGLE_TTS_EMULATOR_HOST: e.tts.address,
    OPENAI_BASE_URL: e.openai.baseURL,
    AGENTS_FILE: files.agentsFile,
    WEBHOOK_SECRET: secret,
    DATA_DIR: files.dataDir,
    // The console's call page plays it; the file goes away with the temporary DATA_DIR.
    RECORD_CALLS: 'true',
  };
}
