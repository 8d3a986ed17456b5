/**
 * What the Google STT v1 and v2 emulators share: a gRPC server with one bidi `StreamingRecognize`
 * method, the per-stream bookkeeping tests read, the speech detector and transcript scripting,
 * spurious finals, the stream-duration and idle limits, and injected faults. Each API version is
 * a {@link SttDialect}: how its requests are read and validated and how its responses are shaped.
 */
import { EventEmitter } from 'node:events';
import { grpc } from 'google-gax';
import { SttStreamSession } from './google-stt-session.ts';
import type {
  ResolvedSttOptions,
  SttDialect,
  SttEmulator,
  SttEmulatorEvent,
  SttEmulatorOptions,
  SttStreamRecord,
} from './google-stt-types.ts';

/**
 * Starts a server for `service` whose `StreamingRecognize` streams are read, validated and
 * answered by `dialect`. `streamLimitMs` is the API's own stream duration cap.
 */
export async function startSttServer<C>(
  service: grpc.ServiceDefinition,
  dialect: SttDialect<C>,
  opts: SttEmulatorOptions & { onEvent?: (e: SttEmulatorEvent<C>) => void },
  streamLimitMs: number,
): Promise<SttEmulator<C>> {
  const o = {
    speechRms: 300,
    interimEveryMs: 300,
    endSilenceMs: 300,
    minSpeechMs: 150,
    finalDelayMs: 0,
    finalConfidence: 0.92,
    maxStreamAudioMs: streamLimitMs,
    idleTimeoutMs: 10_000,
    failCode: 14,
    failDetails: 'The service is currently unavailable.',
    spuriousFinalAtMs: [],
    spuriousFinalText: 'אה',
    spuriousFinalConfidence: 0,
    ...stripUndefined(opts),
  } as ResolvedSttOptions;
  const streams: Array<SttStreamRecord<C>> = [];
  const sessions = new Set<SttStreamSession<C>>();
  const events = new EventEmitter();
  const emit = (e: SttEmulatorEvent<C>): void => {
    opts.onEvent?.(e);
    events.emit(e.type, e);
    events.emit('event', e);
  };

  const server = new grpc.Server();
  server.addService(service, {
    StreamingRecognize(call: grpc.ServerDuplexStream<unknown, unknown>) {
      const record: SttStreamRecord<C> = {
        index: streams.length,
        metadata: Object.fromEntries(
          Object.entries(call.metadata.getMap()).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
        ),
        config: null,
        recognition: null,
        audioBytes: 0,
        audioMs: 0,
        state: 'open',
        openedAt: Date.now(),
        results: 0,
      };
      streams.push(record);
      const s = new SttStreamSession(call, record, o, dialect, emit, () => sessions.delete(s));
      sessions.add(s);
      emit({ type: 'open', stream: record.index });
    },
  });
  const host = o.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    streams,
    events,
    activeStreams: () => streams.filter((r) => r.state === 'open'),
    failActiveStreams(code, details) {
      const open = [...sessions];
      for (const s of open) s.fail({ code, details });
      return open.length;
    },
    spuriousFinal(so = {}) {
      let sent = 0;
      for (const s of sessions) {
        if (so.stream !== undefined && s.index !== so.stream) continue;
        if (s.spurious(so.text ?? o.spuriousFinalText, so.confidence ?? o.spuriousFinalConfidence)) sent++;
      }
      return sent;
    },
    waitForEvent(type, filter, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off(type, listener);
          reject(new Error(`fake STT: no '${type}' event within ${timeoutMs} ms`));
        }, timeoutMs);
        function listener(e: any): void {
          if (filter && !filter(e)) return;
          clearTimeout(timer);
          events.off(type, listener);
          resolve(e);
        }
        events.on(type, listener);
      });
    },
    async close() {
      for (const s of [...sessions]) s.cancelled();
      server.forceShutdown();
    },
  };
}

/** Drops undefined values so they do not override the defaults in a spread. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
