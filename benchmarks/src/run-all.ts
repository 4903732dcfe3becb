/** Runs every benchmark in sequence (filled in by the benchmark modules). */
console.log('no benchmarks yet');
