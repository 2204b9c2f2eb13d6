// Internal: where a benchmark's run is kept. Each run writes its figures as
// JSON and its report as Markdown, side by side in bench/results/, named by
// the date, the benchmark and the run's --label.
import { mkdir, writeFile } from 'node:fs/promises';

export interface ResultsName {
  /** The benchmark's name in the file's: `2026-12-07-<benchmark>`. */
  benchmark: string;
  /** The run's --label, appended when given. */
  label: string | undefined;
  /** The run's date, ISO (its first ten characters are used). Default: now. */
  date?: string;
}

/** Writes bench/results/<date>-<benchmark>[-<label>].json and .md; returns that path without its extension, from the project's root. */
export async function writeResults({ benchmark, label, date = new Date().toISOString() }: ResultsName, results: unknown, markdown: string): Promise<string> {
  const stem = `${date.slice(0, 10)}-${benchmark}${label ? `-${label}` : ''}`;
  const directory = new URL('results/', import.meta.url);
  await mkdir(directory, { recursive: true });
  await writeFile(new URL(`${stem}.json`, directory), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(new URL(`${stem}.md`, directory), markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return `bench/results/${stem}`;
}
