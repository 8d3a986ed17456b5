/**
 * Sends a WebSocket upgrade request over a bare TCP socket and returns the response head exactly
 * as the server wrote it, so tests can check real status lines and headers (a WebSocket client
 * library would hide them).
 */
import net from 'node:net';

/** Status line and lower-cased headers of the response. */
export interface UpgradeResponse {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  /** True when the server closed the socket after answering. */
  closed: boolean;
}

/** Performs one raw upgrade request to 127.0.0.1:port. */
export function rawUpgrade(
  port: number,
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<UpgradeResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = '';
    let head: UpgradeResponse | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      if (head) resolve(head);
      else reject(new Error(`no upgrade response for ${path}`));
    }, 3000);
    socket.on('connect', () => {
      const headers: Record<string, string> = {
        Host: `127.0.0.1:${port}`,
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...extraHeaders,
      };
      socket.write(
        `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
    });
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1 || head) return;
      const [statusLine, ...lines] = buf.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      head = { statusLine: statusLine!, status: Number(statusLine!.split(' ')[1]), headers, closed: false };
      if (head.status === 101) {
        clearTimeout(timer);
        socket.destroy();
        resolve(head);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (head) resolve({ ...head, closed: true });
      else reject(new Error(`socket closed without a response for ${path}`));
    });
    socket.on('error', () => {});
  });
}
