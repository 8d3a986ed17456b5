// The architecture as rules (`npm run lint`): folders are layers, and an import may only point
// down. Because every allowed edge goes down the list below, no two folders can import each other:
//
//   gateway.ts ─► routes/ ─► media/voice/ ─► media/providers/, media/twilio/ ─► media/audio/ ─► server/ ─► config/
//                 (routes/ never imports media/voice/; server/ is infrastructure and imports neither media/ nor routes/)
const layer = (from, forbidden, comment) => ({
  name: `no-${from.replace(/[^a-z]+/g, '-')}-upwards`.replace(/-+/g, '-'),
  severity: 'error',
  comment,
  from: { path: `^${from}` },
  to: { path: forbidden },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not import each other in a cycle.',
      from: {},
      to: { circular: true },
    },
    layer('config/', '^(server|routes|media|tools|tests)/|^gateway\\.ts$', 'config/ is the bottom layer.'),
    layer(
      'server/',
      '^(routes|media|tools|tests)/|^gateway\\.ts$',
      'server/ is infrastructure: it never imports media/ or routes/.',
    ),
    layer(
      'media/audio/',
      '^(routes|tools|tests)/|^media/(twilio|voice|providers)/|^gateway\\.ts$',
      'media/audio/ holds pure codecs.',
    ),
    layer(
      'media/twilio/',
      '^(routes|tools|tests)/|^media/(voice|providers)/|^gateway\\.ts$',
      'the socket protocol knows nothing of the voice pipeline.',
    ),
    layer(
      'media/providers/',
      '^(routes|tools|tests)/|^media/(voice|twilio)/|^gateway\\.ts$',
      'providers know nothing of calls.',
    ),
    layer('media/voice/', '^(routes|tools|tests)/|^gateway\\.ts$', 'the voice pipeline never imports routes/.'),
    layer('routes/', '^(tools|tests)/|^media/voice/|^gateway\\.ts$', 'routes/ never imports media/voice/.'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|coverage|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
