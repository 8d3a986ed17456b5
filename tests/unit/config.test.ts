import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, ConfigError, CONFIG_VARIABLES } from '../../config/config.ts';

describe('config', () => {
  it('has working defaults with an empty environment', () => {
    const c = parseConfig({});
    expect(c.port).toBe(5000);
    expect(c.voice.eouMs).toBe(450);
    expect(c.voice.vadRms).toBe(210);
    expect(c.voice.bargeIn).toBe(true);
    expect(c.voice.bargeInMinMs).toBe(200);
    expect(c.voice.sttLanguage).toBe('iw-IL');
    expect(c.voice.greeting).toMatch(/[\u0590-\u05FF]/); // Hebrew by default
    expect(c.twilioAuthToken).toBeUndefined();
  });

  it('is frozen all the way down', () => {
    const c = parseConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.voice)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow();
  });

  it('parses values and treats empty ones as unset', () => {
    const c = parseConfig({
      PORT: '8080',
      BARGE_IN: 'false',
      EOU_MS: '',
      STT_LANGUAGE: 'he-IL',
      PUBLIC_BASE_URL: 'https://gw.example.com/',
    });
    expect(c.port).toBe(8080);
    expect(c.voice.bargeIn).toBe(false);
    expect(c.voice.eouMs).toBe(450);
    expect(c.voice.sttLanguage).toBe('he-IL');
    expect(c.publicBaseUrl).toBe('https://gw.example.com');
  });

  it('lists every malformed variable by name in one error', () => {
    let err: unknown;
    try {
      parseConfig({
        EOU_MS: 'abc',
        PORT: '70000',
        BARGE_IN: 'maybe',
        PUBLIC_BASE_URL: 'https://x.example/path',
        GOOGLE_STT_EMULATOR_HOST: 'nohost',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of ['EOU_MS', 'PORT', 'BARGE_IN', 'PUBLIC_BASE_URL', 'GOOGLE_STT_EMULATOR_HOST'])
      expect(problems).toContain(name);
    expect((err as ConfigError).message).toContain('EOU_MS');
  });

  it('never echoes a secret value in a config error, even one that is itself malformed', () => {
    const secrets = {
      WEBHOOK_SECRET: 'short-secret',
      CONSOLE_TOKEN: 'token with spaces 1234',
      DATABASE_URL: 'mysql://u:pw-9@db/x',
    };
    let message = '';
    try {
      parseConfig({ ...secrets, EOU_MS: 'x' });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const [name, value] of Object.entries(secrets)) {
      expect(message).toContain(`${name}: `); // the variable is named…
      expect(message).not.toContain(value); // …its value is not shown
    }
    expect(message).toContain('EOU_MS: expected a whole number of milliseconds (got "x")'); // others are shown
  });

  it('is documented in the README, variable by variable', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = CONFIG_VARIABLES.filter((name) => !readme.includes('`' + name + '`'));
    expect(missing).toEqual([]);
  });
});
