// Internal: the benchmarks' whole-number options. A value that is not a
// whole number, or is below its least, is refused with what was wrong and
// the benchmark's usage, and the process exits 2.

export interface WholeNumbers {
  /** `--name`'s value as a whole number of at least `min`. */
  whole: (name: string, text: string | undefined, min: number) => number;
  /** `--name`'s comma-separated values, each a whole number of at least `min`. */
  list: (name: string, text: string, min: number) => number[];
}

export function wholeNumbers(usage: string): WholeNumbers {
  const whole = (name: string, text: string | undefined, min: number): number => {
    const number = Number(text);
    if (text === undefined || text.trim() === '' || !Number.isSafeInteger(number) || number < min) {
      console.error(`--${name}: expected a whole number of at least ${min}, got ${text}\n\n${usage}`);
      process.exit(2);
    }
    return number;
  };
  return { whole, list: (name, text, min) => text.split(',').map((item) => whole(name, item.trim(), min)) };
}
