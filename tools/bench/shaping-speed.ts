/**
 * `node tools/bench/shaping-speed.ts [sentences]`: cost of Hebrew text shaping per sentence. Shapes
 * a fixed mix of realistic reply sentences (numbers, times, phones, money, abbreviations, plain
 * text) and prints µs per sentence (p50/p95/p99/max/mean over rounds of the whole mix). A tool, not
 * a test: nothing asserts a time.
 */
import { performance } from 'node:perf_hooks';
import { shapeForSpeech } from '../../media/voice/shaping/index.ts';
import { summarize } from './stats.ts';

const MIX = [
  'שלום, כאן נועה מהמרפאה, איך אפשר לעזור?',
  "הפגישה נקבעה ליום ה' ה-12/3 ב-10:30, למשך 1.5 שעות.",
  'דירת 3.5 חדרים בקומה 4 בת"א, 120 מ"ר, ב-₪8,500 לחודש.',
  "אפשר להתקשר ל-03-1234567 בימים א'-ה' בין 9:00 ל-17:00.",
  'המחיר הוא 120 ש"ח כולל מע"מ, ויש הנחה של 15% למנויים.',
  'שלחתי לך SMS עם קוד בן 6 ספרות למספר 050-7654321.',
  'ד"ר כהן זמין ב-14:45 או מחר בבוקר ב-8:05.',
  "התור שלך הוא בעוד 3 ימים, ב-2026-03-12, בסניף רח' הרצל 25.",
  'מספר ההזמנה שלך הוא 4521, והמשלוח יגיע תוך 2-3 ימי עסקים.',
  'תודה רבה ויום נעים!',
];

const sentences = Number(process.argv[2] ?? 5000);
const rounds = Math.max(1, Math.ceil(sentences / MIX.length));
for (let i = 0; i < 200; i++) for (const s of MIX) shapeForSpeech(s); // warm up the JIT
const perSentence: number[] = [];
for (let r = 0; r < rounds; r++) {
  const start = performance.now();
  for (const s of MIX) shapeForSpeech(s);
  perSentence.push(((performance.now() - start) * 1000) / MIX.length);
}
const summary = summarize(perSentence);
console.log(`shaped ${rounds * MIX.length} sentences; µs per sentence (per round of ${MIX.length}):`);
console.log(JSON.stringify(summary));
