/**
 * Keypad digits become the caller's turn: they are collected until `#`, or until DTMF_TIMEOUT_MS
 * passes without another key, and the model then reads them as "הקשתי 1234" (I pressed 1234).
 * At most 32 digits are kept; `#` alone is nothing.
 */
import type { Scope } from './scope.ts';

const MAX_DIGITS = 32;

/** Collects one call's keypad input. */
export class DtmfCollector {
  readonly #scope: Scope;
  readonly #timeoutMs: number;
  readonly #onDigits: (text: string) => void;
  #digits = '';
  #cancel: (() => void) | undefined;

  /** `onDigits` gets the turn's text; timers live in `scope` (the conversation). */
  constructor(scope: Scope, timeoutMs: number, onDigits: (text: string) => void) {
    this.#scope = scope;
    this.#timeoutMs = timeoutMs;
    this.#onDigits = onDigits;
  }

  /** One key (`0-9`, `*`, `#`, `A-D`). */
  key(digit: string): void {
    this.#cancel?.();
    if (digit === '#') return this.#commit();
    if (this.#digits.length < MAX_DIGITS) this.#digits += digit;
    this.#cancel = this.#scope.timeout(() => this.#commit(), this.#timeoutMs);
  }

  #commit(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const digits = this.#digits;
    this.#digits = '';
    if (digits) this.#onDigits(`הקשתי ${digits}`);
  }
}
