import { gatewayOverhead, turnComponents, turnLogFields } from '../../media/voice/turn-metrics.ts';

const timing = { speechEndAt: 1000, finalAt: 1300, committedAt: 1310 };
const metrics = {
  llmRequestAt: 1312,
  firstTokenAt: 1600,
  firstSentenceAt: 1700,
  firstTtsStartAt: 1701,
  firstTtsDoneAt: 1900,
  firstMediaAt: 1903,
  firstMarkAt: 2100,
};

describe('turn metrics', () => {
  it('puts every stage relative to the end of speech', () => {
    expect(turnComponents(timing, metrics)).toEqual({
      stt_final: 300,
      committed: 310,
      llm_request: 312,
      first_token: 600,
      first_sentence: 700,
      tts_start: 701,
      tts_done: 900,
      first_media: 903,
      first_mark: 1100,
    });
  });

  it('counts as overhead only the gaps between provider events', () => {
    // 2 ms committed→request, 1 ms sentence→TTS request, 3 ms TTS done→media
    expect(gatewayOverhead(timing, metrics)).toBe(6);
  });

  it('leaves stages that did not happen undefined', () => {
    const partial = { llmRequestAt: 1312 };
    expect(turnComponents(timing, partial).first_token).toBeUndefined();
    expect(gatewayOverhead(timing, partial)).toBeUndefined();
    expect(turnLogFields(turnComponents(timing, partial), undefined)).toMatchObject({
      llmRequestMs: 312,
      firstMediaMs: undefined,
      overheadMs: undefined,
    });
  });
});
