/** Parses the TwiML the gateway returns, so tests check structure rather than strings. */
import { XMLParser } from 'fast-xml-parser';

/** The `<Connect><Stream>` of an incoming-call answer (throws naming what is missing). */
export { readStreamTwiml as parseConnectStream } from '../../tools/twilio/twilio-http.ts';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

/** The parsed document, for other shapes. */
export function parseTwiml(xml: string): any {
  return parser.parse(xml);
}
