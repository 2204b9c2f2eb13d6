/**
 * GraphQL operation names as metric labels. A name is whatever a client
 * writes in its document, so used as it is, a client sending a new name
 * per request would make a new time series per request and exhaust
 * Prometheus. The names of the operations clients are built with (the
 * persisted-query manifest, clients/operations/) are always labels of
 * their own; other names get one only while fewer than `limit` such names
 * have been seen by this process, and are "(other)" after that.
 */

/** An operation without a name: `{ viewer { id } }`. */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** A named operation past the limit of names this process labels. */
export const OTHER_OPERATION = '(other)';
/** A request that never reached an operation: unparseable, invalid, refused before, or not GraphQL at all. */
export const NO_OPERATION = '(none)';

export interface OperationLabelsOptions {
  /** Names always labelled as they are (the manifest's operation names). */
  known: Iterable<string>;
  /** How many other names get a label of their own. Default: 100. */
  limit?: number;
}

export interface OperationLabels {
  /**
   * The label of an operation that was resolved in a valid document (a
   * GraphQL Name, so never one of the parenthesized labels above).
   * @param name its name; null or undefined for an anonymous operation
   */
  of(name: string | null | undefined): string;
}

export function createOperationLabels({ known, limit = 100 }: OperationLabelsOptions): OperationLabels {
  const admitted = new Set<string>(known);
  let others = 0;
  return {
    of(name) {
      if (!name) return ANONYMOUS_OPERATION;
      if (admitted.has(name)) return name;
      if (others >= limit) return OTHER_OPERATION;
      others += 1;
      admitted.add(name);
      return name;
    },
  };
}
