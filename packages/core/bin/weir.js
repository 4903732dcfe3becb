#!/usr/bin/env node
// The `weir` executable of @weir/core (see `weir --help`). The CLI is compiled TypeScript in
// dist/cli/weir.js; this launcher is checked in so that `npm ci` can link the bin before the
// first build, and says so when dist/ is missing.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/weir.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("weir: @weir/core is not built (dist/cli/weir.js is missing): run 'npm run build' first\n");
  process.exit(1);
}
await import(cli.href);
