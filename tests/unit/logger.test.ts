import type { LogEvent } from '../../server/log-events.ts';
import { createLogger, MemoryTransport } from '../../server/logger.ts';

describe('logger', () => {
  it('writes the event name as the message and values as fields', () => {
    const mem = new MemoryTransport();
    const log = createLogger({ level: 'info', format: 'json', transports: [mem] });
    log.child({ callSid: 'CA1' }).info('WS_START', { streamSid: 'MZ1' });
    expect(mem.records[0]).toMatchObject({ message: 'WS_START', callSid: 'CA1', streamSid: 'MZ1', level: 'info' });
  });

  it('redacts secret fields and known secret values anywhere in a record', () => {
    const mem = new MemoryTransport();
    const log = createLogger({
      level: 'debug',
      format: 'json',
      transports: [mem],
      secrets: ['sk-live-123456', 'authtok-987'],
    });
    log.info('WS_BAD_MESSAGE', {
      token: 'per-call-token',
      apiKey: 'k',
      nested: { detail: 'key sk-live-123456 leaked', Authorization: 'Bearer y' },
    });
    // Messages are event names by type; a secret in one is still scrubbed (defence in depth).
    log.error('failed with authtok-987' as LogEvent);
    const text = JSON.stringify(mem.records);
    expect(text).not.toContain('per-call-token');
    expect(text).not.toContain('sk-live-123456');
    expect(text).not.toContain('authtok-987');
    expect(text).not.toContain('Bearer y');
    expect(mem.records[0]!.token).toBe('[redacted]');
  });

  it('respects the level', () => {
    const mem = new MemoryTransport();
    const log = createLogger({ level: 'info', format: 'pretty', transports: [mem] });
    log.debug('PING');
    log.info('WS_CONNECTED');
    expect(mem.records.map((r) => r.message)).toEqual(['WS_CONNECTED']);
  });
});
