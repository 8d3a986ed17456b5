/**
 * `<Connect action>` (`/webhook/stream_ended`) answers from the decision the call left: hang up,
 * transfer (with the digits to dial and a whispered summary), or the apology in Twilio's own
 * Hebrew voice followed by FALLBACK_NUMBER; and the whisper route refuses forged tokens.
 */
import request from 'supertest';
import { MemoryCallEndings } from '../../server/call-endings.ts';
import { SealedTokens } from '../../server/sealed-token.ts';
import { startGateway, type Harness } from '../helpers/gateway-harness.ts';
import { parseTwiml } from '../helpers/twiml.ts';

const CALL = { CallSid: 'CA0123456789abcdef0123456789abcdef', AccountSid: 'AC1', CallStatus: 'in-progress' };

describe('stream_ended', () => {
  let h: Harness;
  const endings = new MemoryCallEndings();
  beforeAll(async () => {
    h = await startGateway(
      {
        PUBLIC_BASE_URL: 'https://gw.example.com',
        FALLBACK_NUMBER: '+97231112222',
        TWILIO_SAY_VOICE: 'Google.he-IL-Wavenet-B',
      },
      { endings },
    );
  });
  afterAll(() => h.stop());
  const ended = async () => {
    const res = await request(h.gateway.server).post('/webhook/stream_ended').type('form').send(CALL);
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/xml');
    return { xml: res.text, doc: parseTwiml(res.text) as any };
  };

  it('hangs up a call the agent ended', async () => {
    await endings.put(CALL.CallSid, { action: 'hangup' });
    const { doc, xml } = await ended();
    expect(doc.Response).toHaveProperty('Hangup');
    expect(xml).not.toContain('<Say');
    expect(xml).not.toContain('<Dial');
  });

  it('dials the transfer target with the caller ID the caller dialled, its digits, and a whisper URL', async () => {
    await endings.put(CALL.CallSid, {
      action: 'transfer',
      target: 'sales',
      number: '+97250123456',
      sendDigits: 'ww123',
      callerId: '+97231234567',
      summary: 'לקוח רוצה לשדרג חבילה',
    });
    const { xml } = await ended();
    expect(xml).toMatch(
      /<Dial callerId="\+97231234567"><Number sendDigits="ww123" url="https:\/\/gw\.example\.com\/webhook\/transfer_whisper\?s=[^"]+" method="POST">\+97250123456<\/Number><\/Dial>/,
    );
    const url = new URL(/url="([^"]+)"/.exec(xml)![1]!.replace(/&amp;/g, '&'));
    const whisper = await request(h.gateway.server)
      .post(`${url.pathname}${url.search}`)
      .type('form')
      .send({ CallSid: 'CA2' });
    expect(whisper.status).toBe(200);
    expect(whisper.text).toContain('<Say voice="Google.he-IL-Wavenet-B" language="he-IL">לקוח רוצה לשדרג חבילה</Say>');
  });

  it('the whisper route says nothing for a forged or foreign token', async () => {
    const foreign = new SealedTokens('another-key', 'transfer whisper').seal({ summary: 'זיוף' }, 60_000);
    for (const s of [foreign, 'x.y', '']) {
      const res = await request(h.gateway.server)
        .post(`/webhook/transfer_whisper?s=${encodeURIComponent(s)}`)
        .type('form')
        .send({});
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('<Say');
    }
  });

  it('with no decision (the stream never started) Twilio says the apology in Hebrew, then dials FALLBACK_NUMBER', async () => {
    const res = await request(h.gateway.server)
      .post('/webhook/stream_ended')
      .type('form')
      .send({ ...CALL, CallSid: 'CAunknown' });
    expect(res.text).toMatch(
      /<Say voice="Google\.he-IL-Wavenet-B" language="he-IL">[^<]+<\/Say><Dial><Number>\+97231112222<\/Number><\/Dial>/,
    );
  });

  it('when the caller already heard our apology, Twilio does not repeat it', async () => {
    await endings.put(CALL.CallSid, { action: 'apology', heard: true });
    const { xml } = await ended();
    expect(xml).not.toContain('<Say');
    expect(xml).toContain('<Number>+97231112222</Number>');
  });
});

describe('stream_ended without FALLBACK_NUMBER', () => {
  it('apologises with the default voice and hangs up', async () => {
    const h = await startGateway();
    try {
      const res = await request(h.gateway.server).post('/webhook/stream_ended').type('form').send(CALL);
      expect(res.text).toMatch(/<Say voice="Google\.he-IL-Standard-A" language="he-IL">[^<]+<\/Say><Hangup\/>/);
    } finally {
      await h.stop();
    }
  });
});
