import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WavFileWriter } from '../../media/audio/wav-file-writer.ts';
import { parseWav } from '../../media/audio/wav.ts';
import { MemorySink, settle } from '../helpers/wav-sink.ts';

const frame = (value: number, bytes = 640) => Buffer.alloc(bytes, value);

describe('WavFileWriter on a real file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'wav-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the folder, writes the samples in order and finishes a WAV that parses exactly', async () => {
    const file = path.join(dir, 'day', 'call.wav');
    const w = new WavFileWriter(file, { channels: 2, sampleRate: 8000 });
    const chunks = [frame(1), frame(2), frame(3, 1280)];
    for (const c of chunks) w.write(c);
    const result = await w.close();
    expect(result).toEqual({ status: 'ok', dataBytes: 2560, droppedBytes: 0 });
    const wav = parseWav(readFileSync(file));
    expect(wav).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(wav.data).toEqual(Buffer.concat(chunks));
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(44 + 2560);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8); // the placeholders were patched
    expect(bytes.readUInt32LE(40)).toBe(2560);
    expect(await w.close()).toBe(result); // idempotent
  });

  it('never overwrites an existing file: the result says failed and the file is untouched', async () => {
    const file = path.join(dir, 'taken.wav');
    writeFileSync(file, 'someone else');
    const errors: Error[] = [];
    const w = new WavFileWriter(file, { channels: 2, sampleRate: 8000, onError: (e) => errors.push(e) });
    w.write(frame(1));
    const result = await w.close();
    expect(result.status).toBe('failed');
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(readFileSync(file, 'utf8')).toBe('someone else');
  });
});

describe('WavFileWriter with a slow or failing disk', () => {
  it('holds at most maxQueueBytes, drops the rest, and writes the dropped stretch as zeros so later audio keeps its place', async () => {
    const sink = new MemorySink();
    sink.held = true;
    const behind: number[] = [];
    const w = new WavFileWriter('x.wav', {
      channels: 2,
      sampleRate: 8000,
      maxQueueBytes: 4 * 640,
      open: async () => sink,
      onBehind: () => behind.push(w.queuedBytes),
    });
    await settle();
    let maxQueued = 0;
    for (let i = 0; i < 50; i++) {
      w.write(frame(i + 1));
      maxQueued = Math.max(maxQueued, w.queuedBytes);
    }
    expect(maxQueued).toBeLessThanOrEqual(4 * 640);
    expect(w.droppedBytes).toBeGreaterThan(0);
    expect(behind).toHaveLength(1); // told once, not per chunk
    sink.release();
    await settle();
    w.write(frame(200)); // the disk caught up: this one is kept
    const result = await w.close();
    expect(result.status).toBe('ok');
    expect(result.dataBytes).toBe(51 * 640);
    const data = parseWav(sink.bytes).data;
    expect(data.length).toBe(51 * 640);
    // What got in is where it belongs; what was dropped is silence of the same length.
    for (let i = 0; i < 50; i++) {
      const got = data.subarray(i * 640, (i + 1) * 640);
      expect(got.every((b) => b === i + 1) || got.every((b) => b === 0)).toBe(true);
    }
    expect(data.subarray(50 * 640).every((b) => b === 200)).toBe(true);
    expect(result.droppedBytes).toBe(w.droppedBytes);
    expect(data.filter((b) => b === 0).length).toBe(result.droppedBytes);
  });

  it('abandons the file on the first write error, tells once, ignores later writes, and keeps what is on disk playable', async () => {
    const sink = new MemorySink();
    sink.failAt = 3; // header, first chunk, then the disk is full
    const errors: Error[] = [];
    const w = new WavFileWriter('x.wav', {
      channels: 2,
      sampleRate: 8000,
      open: async () => sink,
      onError: (e) => errors.push(e),
    });
    w.write(frame(1));
    await settle();
    w.write(frame(2));
    await settle();
    expect(() => w.write(frame(3))).not.toThrow();
    const result = await w.close();
    expect(errors.map((e) => e.message)).toEqual(['ENOSPC: no space left on device']);
    expect(result).toMatchObject({ status: 'partial', dataBytes: 640 });
    expect(w.failed).toBe(true);
    expect(parseWav(sink.bytes).data).toEqual(frame(1));
    expect(sink.closed).toBe(true);
  });

  it('tells about a disk that stays broken once, and reports the file failed when even its header cannot be patched', async () => {
    const sink = new MemorySink();
    sink.failFrom = 2; // the header goes out, nothing after it
    const errors: Error[] = [];
    const w = new WavFileWriter('x.wav', {
      channels: 2,
      sampleRate: 8000,
      open: async () => sink,
      onError: (e) => errors.push(e),
    });
    w.write(frame(1));
    await settle();
    w.write(frame(2));
    const result = await w.close();
    expect(result).toMatchObject({ status: 'failed', dataBytes: 0 });
    expect(errors).toHaveLength(1);
    expect(sink.closed).toBe(true);
  });

  it('reports failed when it cannot open the file', async () => {
    const errors: Error[] = [];
    const w = new WavFileWriter('x.wav', {
      channels: 2,
      sampleRate: 8000,
      open: () => Promise.reject(new Error('EACCES: permission denied')),
      onError: (e) => errors.push(e),
    });
    w.write(frame(1));
    expect(await w.close()).toMatchObject({ status: 'failed', dataBytes: 0 });
    expect(errors).toHaveLength(1);
  });

  it('abandon() stops writing what is queued', async () => {
    const sink = new MemorySink();
    sink.held = true;
    const w = new WavFileWriter('x.wav', { channels: 2, sampleRate: 8000, open: async () => sink });
    await settle();
    w.write(frame(1));
    w.write(frame(2));
    w.abandon(new Error('given up'));
    sink.release();
    const result = await w.close();
    expect(result.status).toBe('partial');
    expect(result.dataBytes).toBeLessThanOrEqual(640); // at most the write already on its way
    expect(w.queuedBytes).toBe(0);
  });
});
