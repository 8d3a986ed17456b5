/**
 * The whole voice stack for end-to-end tests: wire-level emulators of Google STT, Google TTS and
 * OpenAI, a real gateway whose real SDK clients talk to them through the emulator settings, and a
 * Twilio-side client that places calls the way Twilio does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAgents } from '../../config/agents.ts';
import { MemoryCallEndings } from '../../server/call-endings.ts';
import {
  startFakeCrm,
  startFakeStt,
  startFakeTts,
  startFakeOpenAI,
  type FakeCrm,
  type FakeCrmOptions,
  type FakeStt,
  type FakeTts,
  type FakeOpenAI,
  type FakeSttOptions,
  type FakeTtsOptions,
  type FakeOpenAIOptions,
} from '../../tools/emulators/index.ts';
import { TwilioMediaClient } from '../../tools/twilio/media-client.ts';
import { parseConfig } from '../../config/config.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';
import { createVoiceServices, voiceCallFactory, type VoiceRuntime } from '../../media/voice/services.ts';
import type { RecordSinks } from '../../media/voice/call-record.ts';
import { startGateway, type Harness } from './gateway-harness.ts';
import { parseConnectStream } from './twiml.ts';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');
/** 2.16 s of real Hebrew speech (espeak-ng), 8 kHz μ-law, no trailing silence. */
export const HEBREW = fs.readFileSync(path.join(FIXTURES, 'caller-hebrew.ulaw'));
/** 3.47 s of real Hebrew speech. */
export const HEBREW_LONG = fs.readFileSync(path.join(FIXTURES, 'caller-hebrew-long.ulaw'));
/** 100 ms of loud noise. */
export const NOISE = fs.readFileSync(path.join(FIXTURES, 'noise-burst.ulaw'));

/** Emulators + gateway. */
export interface VoiceStack {
  stt: FakeStt;
  tts: FakeTts;
  openai: FakeOpenAI;
  /** The business's systems, when the stack was started with `crm` options. */
  crm: FakeCrm | undefined;
  h: Harness;
  runtime: VoiceRuntime;
  /** Where calls leave their ending decision (shared by the voice pipeline and stream_ended). */
  endings: MemoryCallEndings;
  /** Places a call like Twilio: webhook for the TwiML, then the media socket with its parameters. */
  call(opts?: { callSid?: string; from?: string; to?: string }): Promise<TwilioMediaClient>;
  stop(): Promise<void>;
}

/** Options per emulator and extra gateway environment. */
export interface VoiceStackOptions {
  env?: Record<string, string>;
  stt?: FakeSttOptions;
  tts?: FakeTtsOptions;
  openai?: FakeOpenAIOptions;
  /** Starts a CRM emulator; `agents` can use its URLs. */
  crm?: FakeCrmOptions;
  /** An agents document (written to a temp file and given as AGENTS_FILE); may depend on the CRM's URLs. */
  agents?: (crm: FakeCrm | undefined) => unknown;
  /** RECORD_CALLS: each call's WAV goes to `dir`; `records` gets the call records (and so the recording's path). */
  recordings?: { dir: string; records?: RecordSinks };
}

/** Starts everything; `stop()` tears it all down. */
export async function startVoiceStack(opts: VoiceStackOptions = {}): Promise<VoiceStack> {
  const stt = await startFakeStt(opts.stt);
  const tts = await startFakeTts({ msPerChar: 30, ...opts.tts });
  const openai = await startFakeOpenAI(opts.openai);
  const crm = opts.crm ? await startFakeCrm(opts.crm) : undefined;
  const env: Record<string, string> = {
    GOOGLE_STT_EMULATOR_HOST: stt.address,
    GOOGLE_TTS_EMULATOR_HOST: tts.address,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: 'test-key',
    AGENT_GREETING: 'שלום, במה אפשר לעזור?',
    ...opts.env,
  };
  if (opts.agents) {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'agents-')), 'agents.json');
    fs.writeFileSync(file, JSON.stringify(opts.agents(crm)));
    env.AGENTS_FILE = file;
  }
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env });
  const agents = loadAgents(config.agentsFile, { ...config.voice, pronunciationsFile: config.pronunciationsFile });
  const endings = new MemoryCallEndings();
  const runtime = createVoiceServices(
    config.voice,
    createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
    {
      endings,
      ...(config.webhookSecret ? { webhookSecret: config.webhookSecret } : {}),
      ...(opts.recordings ? { recordingsDir: opts.recordings.dir } : {}),
      ...(opts.recordings?.records ? { records: opts.recordings.records } : {}),
    },
  );
  const h = await startGateway(env, { callFactory: voiceCallFactory(runtime.services, { agents }), agents, endings });
  const stack: VoiceStack = {
    stt,
    tts,
    openai,
    crm,
    h,
    runtime,
    endings,
    async call(o = {}) {
      const callSid = o.callSid ?? `CA${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;
      const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ CallSid: callSid, From: o.from ?? '+972501111111', To: o.to ?? '+972722222222' }),
      });
      const { parameters } = parseConnectStream(await res.text());
      return TwilioMediaClient.connect(h.wsUrl, { callSid, customParameters: parameters });
    },
    async stop() {
      await h.stop();
      await runtime.close();
      await Promise.all([stt.close(), tts.close(), openai.close(), crm?.close()]);
      // gRPC reports the status of streams cancelled by the close a moment later: let it arrive
      // while the test environment is still there.
      await new Promise((r) => setTimeout(r, 100));
    },
  };
  return stack;
}

/** μ-law silence of the given length. */
export function silence(ms: number): Buffer {
  return Buffer.alloc(ms * 8, 0xff);
}
