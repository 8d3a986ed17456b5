/**
 * How the smoke run judges what a deployment answered, and words what it saw: a handshake that
 * must switch protocols, one that must be refused, the `/version` body, and a body quoted on one
 * line. Pure functions over the exchanges of transport.ts.
 */
import type { UpgradeOutcome } from './transport.ts';

/** A step's finding: passed or failed with what was seen, or skipped with why. */
export type Verdict = { pass: boolean; detail: string } | { skip: string };

/** 101 with a valid accept key passes; anything else fails with what was seen. */
export function switched(outcome: UpgradeOutcome, what: string): { pass: boolean; detail: string } {
  if (outcome.kind === 'closed')
    return {
      pass: false,
      detail: `connection closed without a response (${outcome.error}), ${what}; expected HTTP/1.1 101 Switching Protocols`,
    };
  const { statusLine, status } = outcome.exchange;
  if (status !== 101)
    return { pass: false, detail: `${statusLine} (${what}); expected HTTP/1.1 101 Switching Protocols` };
  if (!outcome.acceptOk)
    return { pass: false, detail: `${statusLine} (${what}) but Sec-WebSocket-Accept does not match the key sent` };
  return { pass: true, detail: `${statusLine} (${what})` };
}

/** Any answer but 101 passes, including a server that hangs up without one. */
export function refused(outcome: UpgradeOutcome, what: string): { pass: boolean; detail: string } {
  if (outcome.kind === 'closed')
    return { pass: true, detail: `connection closed without a response (${outcome.error}) ${what}` };
  const { statusLine, status } = outcome.exchange;
  return status === 101
    ? { pass: false, detail: `${statusLine} ${what}; expected the upgrade to be refused` }
    : { pass: true, detail: `${statusLine} ${what}` };
}

/** The non-empty `deployId` of a `/version` body, or undefined when the body is not such JSON. */
export function deployIdOf(body: string): string | undefined {
  try {
    const json: unknown = JSON.parse(body);
    const id = (json as { deployId?: unknown } | null)?.deployId;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined; // not JSON: reported by the caller with the body
  }
}

/** A body shown in a line: quoted, one line, at most 80 characters. */
export function quote(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 80)}…` : flat);
}
