#!/usr/bin/env node
/**
 * The `weir` executable (the `bin` of `@weir/core`): `weir run <job-module>`,
 * `weir checkpoints <dir>`. See `weir --help`.
 */
import { main } from './main.js';

const status = await main(process.argv.slice(2));
// Let stdout and stderr drain (pipes may be asynchronous), then exit even if a job left a
// handle open.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(status);
