/** Runs every benchmark in sequence. Arguments (e.g. `--quick`, `--records N`) are passed on. */
import { main as corePipeline } from './core-pipeline.js';
import { main as windows } from './windows.js';
import { main as levelState } from './level-state.js';
import { main as intervalJoin } from './interval-join.js';
import { main as checkpoint } from './checkpoint.js';

await corePipeline(process.argv.slice(2));
await windows(process.argv.slice(2));
await levelState(process.argv.slice(2));
await intervalJoin(process.argv.slice(2));
await checkpoint(process.argv.slice(2));
