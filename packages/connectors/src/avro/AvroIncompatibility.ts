/**
 * One reason why a reader schema cannot read data written with a writer schema, as found by
 * {@link checkAvroCompatibility}. The kinds follow Avro's own `SchemaCompatibility` checker:
 *
 * - `'NAME_MISMATCH'`: records, enums or fixed types whose (unqualified) names differ and no
 *   reader alias names the writer type;
 * - `'FIXED_SIZE_MISMATCH'`: fixed types of different sizes;
 * - `'MISSING_ENUM_SYMBOLS'`: the writer enum has symbols the reader lacks, and the reader enum
 *   has no `default` symbol;
 * - `'READER_FIELD_MISSING_DEFAULT_VALUE'`: a reader field without a default that the writer
 *   record does not have (by name or reader field alias);
 * - `'TYPE_MISMATCH'`: types that neither match nor promote (int→long→float→double,
 *   string↔bytes);
 * - `'MISSING_UNION_BRANCH'`: a writer type (or a writer union branch) that no branch of the
 *   reader union can read.
 * @public
 */
export interface AvroIncompatibility {
  /** What kind of incompatibility. */
  readonly kind:
    | 'NAME_MISMATCH'
    | 'FIXED_SIZE_MISMATCH'
    | 'MISSING_ENUM_SYMBOLS'
    | 'READER_FIELD_MISSING_DEFAULT_VALUE'
    | 'TYPE_MISMATCH'
    | 'MISSING_UNION_BRANCH';
  /**
   * Where, in the reader schema: the top-level type name followed by field names, `[]` for
   * array items, `{}` for map values and `<n>` for the union branch of a writer union, e.g.
   * `Event.context.position` or `Event.tags[]`.
   */
  readonly path: string;
  /** A sentence that names the field or type and what is wrong with it. */
  readonly message: string;
}
