import type { FormattedExecutionResult } from 'graphql';

/**
 * An answer's data already written as JSON text (compiled reads,
 * sql-reads/): it goes into the answer as it is, not parsed into objects to
 * be serialized again. Its only reader is the answer's serialization
 * (stringifyResult below, which the HTTP server gives Apollo Server); what
 * must read the data itself (the response cache's tags) parses it with
 * dataOf. Anything else serializing it by JSON.stringify gets the same
 * answer through toJSON, only slower.
 */
class RawData {
  constructor(readonly text: string) {}

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** Data whose JSON text is `text`, for an execution result. */
export const rawData = (text: string): Record<string, unknown> => new RawData(text) as unknown as Record<string, unknown>;

/** The JSON text of data made by rawData; undefined for any other. */
export const rawTextOf = (data: unknown): string | undefined => (data instanceof RawData ? data.text : undefined);

/** The data as objects: parsed when it is raw. */
export function dataOf(data: FormattedExecutionResult['data']): FormattedExecutionResult['data'] {
  const text = rawTextOf(data);
  return text === undefined ? data : (JSON.parse(text) as Record<string, unknown>);
}

/**
 * The answer's text as Apollo Server writes it (`JSON.stringify` of errors,
 * data and extensions in that order, and a newline), raw data written as it
 * is: the server's stringifyResult.
 */
export function answerText(result: FormattedExecutionResult): string {
  const text = rawTextOf(result.data);
  if (text === undefined) return `${JSON.stringify({ errors: result.errors, data: result.data, extensions: result.extensions })}\n`;
  const errors = result.errors === undefined ? '' : `"errors":${JSON.stringify(result.errors)},`;
  const extensions = result.extensions === undefined ? '' : `,"extensions":${JSON.stringify(result.extensions)}`;
  return `{${errors}"data":${text}${extensions}}\n`;
}
