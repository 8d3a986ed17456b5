/** The rules Twilio puts on the `<Stream url>` of an incoming-call answer. */

/**
 * Everything wrong with a stream URL, empty when Twilio can use it: `wss:` only (else 31922), on
 * `expectedHost` (host[:port] of the public origin), no `//` in the path (proxies and routers
 * disagree on it), no query string (Twilio drops it).
 */
export function streamUrlProblems(raw: string, expectedHost: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return ['not an absolute URL'];
  }
  const problems: string[] = [];
  if (url.protocol !== 'wss:') problems.push(`scheme is ${url.protocol.slice(0, -1)}://, expected wss://`);
  if (url.host !== expectedHost) problems.push(`host is ${url.host}, expected ${expectedHost}`);
  // Reported as written in the TwiML, not as URL parsing normalised it (backslashes, dot segments).
  const path = rawPath(raw);
  if (path.includes('//')) problems.push(`path "${path}" contains "//"`);
  if (url.search !== '') problems.push(`has a query string (${url.search}), which Twilio drops`);
  return problems;
}

function rawPath(raw: string): string {
  const afterScheme = raw.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = afterScheme.indexOf('/');
  if (slash === -1) return '';
  return afterScheme.slice(slash).replace(/[?#].*$/s, '');
}
