// Entry point of the `cahoots` command (bin/cahoots.js loads it through tsx). Library modules log
// and emit metrics through Powertools, which writes to stdout; a terminal command keeps stdout for
// its own output, so quiet defaults are set here before any of them is loaded.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const { main } = await import('./program');
const code = await main(process.argv.slice(2));
// Open handles (HTTP keep-alive, stdin) must not keep a finished command alive.
process.exit(code);
export {};
