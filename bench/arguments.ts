// Internal: the benchmarks' command lines. Each benchmark declares its own
// options; `--help` prints its usage and exits 0. A whole-number option that
// is not a whole number, or is below its least, is refused with what was
// wrong and the usage, and the process exits 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

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

const HELP = { help: { type: 'boolean', default: false } } as const;

/** A benchmark's options as parseArgs reads them, `--help` added (and answered here), and the readers of whole numbers. */
export function benchArguments<const Options extends ParseArgsOptions>(usage: string, options: Options) {
  const { values } = parseArgs({ options: { ...options, ...HELP } });
  // Options is generic here: its values' type is known to the caller only.
  if ('help' in values && values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  return { values, ...wholeNumbers(usage) };
}
