// Global setup of the `kafka` vitest project: provides a real Kafka broker to `*.it.test.ts`.
// - KAFKA_BROKERS set: those brokers are used as they are.
// - Otherwise a single-node KRaft broker is started from the Apache Kafka jars on Maven Central
//   (scripts/kafka-broker.mjs; the first run downloads them into ~/.cache/weir) and stopped after.
// - With neither Java + Maven nor KAFKA_BROKERS, the tests fail with a message that says what to
//   install (every test's beforeEach throws it): never a silent skip.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import * as broker from '../../../../scripts/kafka-broker.mjs';
import type { KafkaTestEnv } from './env.js';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide('kafka', { brokers: external, external: true, dir: '', error: '' } satisfies KafkaTestEnv);
    return undefined;
  }
  const missing = broker.missingTools();
  if (missing !== undefined) {
    const error =
      `Kafka integration tests need a Kafka broker: install ${missing.join(' and ')} ` +
      '(the tests then fetch Apache Kafka from Maven Central and start it), or point KAFKA_BROKERS at a cluster (host:port,...).';
    project.provide('kafka', { brokers: '', external: false, dir: '', error } satisfies KafkaTestEnv);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'weir-kafka-test-'));
  const started = Date.now();
  try {
    const st = await broker.startBroker({ dir, fresh: true });
    process.stderr.write(`[kafka] broker ${st.brokers} (Kafka ${st.version}) ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    // Should vitest exit without running the teardown, the broker (a detached JVM) goes too.
    process.once('exit', () => {
      const pid = broker.brokerStatus({ dir }) !== undefined ? st.pid : 0;
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    project.provide('kafka', { brokers: st.brokers, external: false, dir, error: '' } satisfies KafkaTestEnv);
  } catch (e) {
    await broker.stopBroker({ dir, clean: true }).catch(() => {});
    project.provide('kafka', { brokers: '', external: false, dir: '', error: `could not start the Kafka broker: ${(e as Error).message}` } satisfies KafkaTestEnv);
    return undefined;
  }
  return async () => {
    await broker.stopBroker({ dir, clean: true });
  };
}
