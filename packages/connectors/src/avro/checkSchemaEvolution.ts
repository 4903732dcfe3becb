import type { CompatibilityLevel } from './CompatibilityLevel.js';
import type { CompatibilityResult } from './CompatibilityResult.js';
import { checkAvroCompatibility } from './checkAvroCompatibility.js';
import { isCompatibilityLevel } from './internal/levels.js';

/**
 * Checks a new schema against a subject's registered versions at a compatibility level, as a
 * schema registry does before registering it:
 *
 * - `BACKWARD`: the new schema reads data written with the latest version;
 * - `FORWARD`: the latest version reads data written with the new schema;
 * - `FULL`: both;
 * - `*_TRANSITIVE`: the same against every version;
 * - `NONE`: always compatible.
 *
 * Each message names the version (and its id when given), the direction that fails and the
 * field, e.g. `BACKWARD: the new schema cannot read data written with version 1: at
 * Event.country: the reader's field 'country' has no default value and the writer's record
 * 'Event' has no such field`.
 *
 * @param level - the subject's compatibility level
 * @param candidate - the schema to register (object or JSON text)
 * @param previous - the registered versions, oldest first (an empty list is always compatible)
 * @returns whether the candidate is compatible, and why not
 * @public
 */
export function checkSchemaEvolution(
  level: CompatibilityLevel,
  candidate: object | string,
  previous: ReadonlyArray<{ readonly version: number; readonly schema: object | string; readonly id?: number }>,
): CompatibilityResult {
  if (!isCompatibilityLevel(level)) throw new TypeError(`unknown compatibility level '${String(level)}'`);
  if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
  const against = level.endsWith('_TRANSITIVE') ? [...previous].reverse() : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const p of against) {
    const which = p.id === undefined ? `version ${p.version}` : `version ${p.version} (id ${p.id})`;
    if (backward) {
      for (const i of checkAvroCompatibility(candidate, p.schema)) {
        messages.push(`BACKWARD: the new schema cannot read data written with ${which}: ${i.message}`);
      }
    }
    if (forward) {
      for (const i of checkAvroCompatibility(p.schema, candidate)) {
        messages.push(`FORWARD: ${which} cannot read data written with the new schema: ${i.message}`);
      }
    }
  }
  return { compatible: messages.length === 0, messages };
}
