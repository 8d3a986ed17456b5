import { parseInbound, decodePayload, formatMedia, formatMark, formatClear } from '../../media/twilio/messages.ts';

describe('Twilio message codec', () => {
  it('parses start with string counters into numbers and keeps custom parameters', () => {
    const r = parseInbound(
      JSON.stringify({
        event: 'start',
        sequenceNumber: '1',
        streamSid: 'MZ1',
        start: {
          streamSid: 'MZ1',
          callSid: 'CA1',
          accountSid: 'AC1',
          tracks: ['inbound'],
          customParameters: { a: 'b' },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      }),
    );
    expect(r.ok).toBe(true);
    if (r.ok && r.message.event === 'start') {
      expect(r.message.sequenceNumber).toBe(1);
      expect(r.message.start.customParameters).toEqual({ a: 'b' });
    }
  });

  it('parses media counters and tolerates extra fields', () => {
    const r = parseInbound(
      JSON.stringify({
        event: 'media',
        sequenceNumber: '5',
        streamSid: 'MZ1',
        extra: true,
        media: { track: 'inbound', chunk: '4', timestamp: '60', payload: '/w==' },
      }),
    );
    expect(r).toMatchObject({ ok: true, message: { event: 'media', media: { chunk: 4, timestamp: 60 } } });
  });

  it('reports non-JSON, unknown events and bad shapes distinctly', () => {
    expect(parseInbound('{')).toMatchObject({ ok: false, reason: 'not-json' });
    expect(parseInbound('{"event":"hello"}')).toMatchObject({ ok: false, reason: 'unknown-event' });
    expect(parseInbound('null')).toMatchObject({ ok: false, reason: 'unknown-event' });
    expect(parseInbound('{"event":"media","streamSid":"MZ1"}')).toMatchObject({ ok: false, reason: 'bad-shape' });
    expect(parseInbound('{"event":"media","streamSid":"MZ1","media":{"payload":"x","chunk":"-1"}}')).toMatchObject({
      ok: false,
    });
  });

  it('decodes only canonical base64 payloads', () => {
    expect(decodePayload(Buffer.from([1, 2, 3, 255]).toString('base64'))).toEqual(Buffer.from([1, 2, 3, 255]));
    expect(decodePayload('abc')).toBeUndefined();
    expect(decodePayload('@@@@')).toBeUndefined();
  });

  it('formats exactly the documented outbound shapes', () => {
    expect(JSON.parse(formatMedia('MZ1', Buffer.from([0xff, 0x7f])))).toEqual({
      event: 'media',
      streamSid: 'MZ1',
      media: { payload: '/38=' },
    });
    expect(JSON.parse(formatMark('MZ1', 'm1'))).toEqual({ event: 'mark', streamSid: 'MZ1', mark: { name: 'm1' } });
    expect(JSON.parse(formatClear('MZ1'))).toEqual({ event: 'clear', streamSid: 'MZ1' });
  });
});
