/** Parses the TwiML the gateway returns, so tests check structure rather than strings. */
import { XMLParser } from 'fast-xml-parser';

/** The `<Connect><Stream>` of an incoming-call answer. */
export interface ConnectStream {
  connectAction: string | undefined;
  streamUrl: string;
  statusCallback: string | undefined;
  parameters: Record<string, string>;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'Parameter' });

/** Extracts the stream settings; throws if the document is not the expected shape. */
export function parseConnectStream(xml: string): ConnectStream {
  const doc = parser.parse(xml);
  const connect = doc?.Response?.Connect;
  const stream = connect?.Stream;
  if (!stream?.url) throw new Error(`no <Connect><Stream url> in ${xml}`);
  const parameters: Record<string, string> = {};
  for (const p of stream.Parameter ?? []) parameters[p.name] = p.value;
  return { connectAction: connect.action, streamUrl: stream.url, statusCallback: stream.statusCallback, parameters };
}

/** The parsed document, for other shapes. */
export function parseTwiml(xml: string): any {
  return parser.parse(xml);
}
