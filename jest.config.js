const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', importAttributes: true },
        target: 'es2023',
        experimental: { keepImportAttributes: false },
      },
      module: { type: 'commonjs' },
    },
  ],
};
const common = { testEnvironment: 'node', transform, moduleFileExtensions: ['ts', 'js', 'json'] };

export default {
  // Most integration suites wait on real-time audio, not on the CPU: two workers halve the wall time on 2 cores.
  maxWorkers: 2,
  projects: [
    // Pure codecs and pipeline stages on injected clocks: seconds, no sockets (`npm run test:unit`).
    { ...common, displayName: 'unit', roots: ['<rootDir>/tests/unit'] },
    // Real servers on port 0, the real SDKs against the emulators, child processes, the browser.
    { ...common, displayName: 'integration', roots: ['<rootDir>/tests/integration'] },
  ],
};
