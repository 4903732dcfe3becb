/**
 * Column types a {@link FileSink} can write to Arrow IPC files when given `columns` (all
 * columns are nullable). `int64` columns take `number` (integral) or `bigint` values;
 * `timestamp-ms` and `date-ms` take epoch milliseconds or a `Date`. For other types pass an
 * `arrowSchema`.
 * @public
 */
export type ArrowColumnType = 'bool' | 'int32' | 'int64' | 'float32' | 'float64' | 'utf8' | 'timestamp-ms' | 'date-ms';
