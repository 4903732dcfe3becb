/** The play-event record schema the Avro tests evolve: V1, and V2 with a defaulted `country`. */
export const V1 = {
  type: 'record',
  name: 'PlayEvent',
  namespace: 'weir.events',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'user_id', type: 'string' },
    { name: 'timestamp_ms', type: 'long' },
  ],
};

/** V1 plus `country` with a default: a backward- and forward-compatible change. */
export const V2 = { ...V1, fields: [...V1.fields, { name: 'country', type: 'string', default: 'unknown' }] };
