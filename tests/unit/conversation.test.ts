import { Conversation, heardOfReply, heardPrefix, INTERRUPTION_MARKER } from '../../media/voice/conversation.ts';

describe('heardPrefix', () => {
  const text = 'המרפאה פתוחה מחר משמונה בבוקר ועד שש בערב';
  it('keeps whole words only, in proportion to the audio played', () => {
    expect(heardPrefix(text, 0)).toBe('');
    expect(heardPrefix(text, 1)).toBe(text);
    const half = heardPrefix(text, 0.5);
    expect(text.startsWith(half)).toBe(true);
    expect(half.length).toBeLessThanOrEqual(text.length / 2);
    expect(text.slice(half.length, half.length + 1)).toBe(' '); // cut at a word boundary
    expect(half.split(' ').length).toBeGreaterThanOrEqual(3);
  });
  it('grows monotonically with the fraction', () => {
    let prev = 0;
    for (let f = 0; f <= 1; f += 0.05) {
      const n = heardPrefix(text, f).length;
      expect(n).toBeGreaterThanOrEqual(prev);
      prev = n;
    }
  });
});

describe('Conversation', () => {
  it('starts with the system prompt and marks interrupted replies', () => {
    const c = new Conversation('instructions');
    c.addAssistant('שלום');
    c.addUser('מה השעה?');
    c.addAssistant('השעה היא', true);
    c.addAssistant('');
    const m = c.messages();
    expect(m[0]).toEqual({ role: 'system', content: 'instructions' });
    expect(m.map((x) => x.role)).toEqual(['system', 'assistant', 'user', 'assistant']);
    expect(m[3]!.content).toBe(`השעה היא… ${INTERRUPTION_MARKER}`);
  });
  it('returns copies the caller cannot use to change the history', () => {
    const c = new Conversation('s');
    c.addUser('a');
    c.messages()[1]!.content = 'changed';
    expect(c.messages()[1]!.content).toBe('a');
  });
});

describe('heardOfReply', () => {
  const sentences = ['משפט ראשון שלם.', 'משפט שני שנקטע באמצע הדרך.', 'משפט שלישי שלא נשמע.'];
  const sentence = (i: number) => sentences[i];

  it('keeps played sentences whole and the cut one to the word', () => {
    const heard = heardOfReply(7, sentence, new Set([0]), [
      { meta: { replyId: 7, index: 1, text: sentences[1]! }, totalBytes: 8000, heardBytes: 4000 },
      { meta: { replyId: 7, index: 2, text: sentences[2]! }, totalBytes: 8000, heardBytes: 0 },
    ]);
    expect(heard.text.startsWith(sentences[0]!)).toBe(true);
    expect(heard.text).toContain('משפט שני');
    expect(heard.text).not.toContain('הדרך');
    expect(heard.text).not.toContain('שלישי');
    expect(heard.ms).toBe(500);
    expect(heard.chars).toBe(heard.text.length);
  });

  it('ignores segments of other replies', () => {
    const heard = heardOfReply(7, sentence, new Set(), [
      { meta: { replyId: 6, index: 0, text: 'x' }, totalBytes: 800, heardBytes: 800 },
    ]);
    expect(heard).toEqual({ text: '', chars: 0, ms: 0 });
  });
});
