/**
 * The whole voice stack for end-to-end tests: wire-level emulators of Google STT, Google TTS and
 * OpenAI, a real gateway whose real SDK clients talk to them through the emulator settings, and a
 * Twilio-side client that places calls the way Twilio does.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  startFakeStt,
  startFakeTts,
  startFakeOpenAI,
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
  h: Harness;
  runtime: VoiceRuntime;
  /** Places a call like Twilio: webhook for the TwiML, then the media socket with its parameters. */
  call(opts?: { callSid?: string }): Promise<TwilioMediaClient>;
  stop(): Promise<void>;
}

/** Options per emulator and extra gateway environment. */
export interface VoiceStackOptions {
  env?: Record<string, string>;
  stt?: FakeSttOptions;
  tts?: FakeTtsOptions;
  openai?: FakeOpenAIOptions;
}

/** Starts everything; `stop()` tears it all down. */
export async function startVoiceStack(opts: VoiceStackOptions = {}): Promise<VoiceStack> {
  const stt = await startFakeStt(opts.stt);
  const tts = await startFakeTts({ msPerChar: 30, ...opts.tts });
  const openai = await startFakeOpenAI(opts.openai);
  const env: Record<string, string> = {
    GOOGLE_STT_EMULATOR_HOST: stt.address,
    GOOGLE_TTS_EMULATOR_HOST: tts.address,
    OPENAI_BASE_URL: openai.baseURL,
    OPENAI_API_KEY: 'test-key',
    AGENT_GREETING: 'שלום, במה אפשר לעזור?',
    ...opts.env,
  };
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env });
  const runtime = createVoiceServices(
    config.voice,
    createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
  );
  const h = await startGateway(env, { callFactory: voiceCallFactory(runtime.services) });
  const stack: VoiceStack = {
    stt,
    tts,
    openai,
    h,
    runtime,
    async call(o = {}) {
      const callSid = o.callSid ?? `CA${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;
      const res = await fetch(`${h.httpBase}/webhook/incoming_call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ CallSid: callSid, From: '+972501111111', To: '+972722222222' }),
      });
      const { parameters } = parseConnectStream(await res.text());
      return TwilioMediaClient.connect(h.wsUrl, { callSid, customParameters: parameters });
    },
    async stop() {
      await h.stop();
      await runtime.close();
      await Promise.all([stt.close(), tts.close(), openai.close()]);
    },
  };
  return stack;
}

/** μ-law silence of the given length. */
export function silence(ms: number): Buffer {
  return Buffer.alloc(ms * 8, 0xff);
}
