/**
 * The `<Connect><Stream url>` of an incoming-call answer, and the rules Twilio puts on it.
 * Reading one attribute does not need an XML parser (the gateway's production dependencies have
 * none): find the `<Stream …>` start tag after `<Connect`, read its attributes, decode entities.
 */

/** The `url` of the first `<Stream>` inside `<Connect>`, or an explanation of what is missing. */
export function extractStreamUrl(xml: string): { url: string } | { error: string } {
  if (!/<Response[\s>]/.test(xml)) return { error: 'no <Response> element' };
  const connectAt = xml.search(/<Connect[\s>/]/);
  if (connectAt === -1) return { error: 'no <Connect> element' };
  const tag = /<Stream(\s[^>]*)?\/?>/.exec(xml.slice(connectAt));
  if (!tag) return { error: 'no <Stream> inside <Connect>' };
  const url = attributes(tag[1] ?? '').url;
  if (url === undefined || url === '') return { error: '<Stream> has no url attribute' };
  return { url };
}

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

function attributes(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
  }
  return out;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, ref: string) => {
    if (!ref.startsWith('#')) return NAMED[ref] ?? whole;
    const code = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // An invalid code point is left as written rather than throwing: the URL check will show it.
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
