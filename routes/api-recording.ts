/**
 * Serving a call's recording: `audio/wav`, streamed from disk, with single byte ranges so an audio
 * player can seek (`Range: bytes=…` → 206 with Content-Range, 416 when the range is outside the
 * file). Several ranges in one request are answered with the whole file, as RFC 9110 allows.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Request, Response } from 'express';
import { httpStatus } from '../server/errors.ts';

/** A byte range to send, or `unsatisfiable` (416), or undefined for the whole file. */
export type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/** Parses a `Range` header against a file of `size` bytes (pure; only `bytes=` single ranges count). */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return undefined;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

/** Streams `file` as audio/wav, honouring a single Range. */
export async function sendRecording(req: Request, res: Response, file: string): Promise<void> {
  const { size } = await stat(file);
  const range = parseRange(req.get('range'), size);
  res.set({ 'Content-Type': 'audio/wav', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' });
  if (range === 'unsatisfiable') {
    res.status(httpStatus('RANGE_NOT_SATISFIABLE')).set('Content-Range', `bytes */${size}`).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
  res.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file, { start, end });
    stream.once('error', () => {
      // Headers are out: all that is left is to cut the response short.
      res.destroy();
      resolve();
    });
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
