#!/usr/bin/env node
// netab's entry point: runs the built CLI (dist/). Errors never end in a bare stack trace: one line,
// the stack with --debug (or NETAB_DEBUG=1).
const debug = process.argv.slice(2).includes('--debug') || process.env.NETAB_DEBUG === '1';
const internal = (what, e) => {
  const msg =
    String(e?.message ?? e)
      .split('\n')
      .find((l) => l.trim()) ?? String(e);
  process.stderr.write(
    debug ? `netab: internal error: ${what}${e?.stack ?? e}\n` : `netab: internal error: ${what}${msg} (run with --debug for the stack)\n`,
  );
};

// A reader that went away (a closed pipe, a killed wrapper) must not kill netab mid-teardown: the
// output is lost, the cleanup still runs.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

process.on('uncaughtException', (e) => {
  internal('', e);
  process.exit(3);
});
process.on('unhandledRejection', (e) => {
  internal('', e);
  process.exit(3);
});

let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && /dist[/\\]cli[/\\]main\.js/.test(String(e.message))) {
    process.stderr.write('netab: not built yet (dist/ is missing): run `npm run setup` (or `npm ci && npm run build`)\n');
  } else internal('cannot load netab: ', e);
  process.exit(3);
}
main().then((code) => process.exit(code));
