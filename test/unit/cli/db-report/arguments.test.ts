import { parseReportArguments, ReportArgumentsError } from '../../../../src/cli/db-report/arguments.js';

function refusal(argv: string[]): string {
  try {
    parseReportArguments(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ReportArgumentsError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe('parseReportArguments', () => {
  it('reports once, as text, with ten statements per list, by default', () => {
    expect(parseReportArguments([])).toEqual({ help: false, json: false, watchSeconds: null, metricsUrl: undefined, top: 10 });
  });

  it('reads every flag', () => {
    expect(parseReportArguments(['--json', '--watch', '2.5', '--metrics-url', 'http://localhost:4000/metrics', '--top=3'])).toEqual({
      help: false,
      json: true,
      watchSeconds: 2.5,
      metricsUrl: 'http://localhost:4000/metrics',
      top: 3,
    });
    expect(parseReportArguments(['-h']).help).toBe(true);
  });

  it.each([
    [['--nope'], "Unknown option '--nope'"],
    [['extra'], "Unexpected argument 'extra'"],
    [['--watch'], "Option '--watch <value>' argument missing"],
    [['--watch', '0'], '--watch: expected seconds from 0.5 to 3600 (got "0")'],
    [['--watch', 'soon'], '--watch: expected seconds from 0.5 to 3600 (got "soon")'],
    [['--watch', '7200'], '--watch: expected seconds from 0.5 to 3600 (got "7200")'],
    [['--top', '1.5'], '--top: expected a whole number from 1 to 100 (got "1.5")'],
    [['--top', '0'], '--top: expected a whole number from 1 to 100 (got "0")'],
    [['--metrics-url', 'localhost:4000'], '--metrics-url: expected an http:// or https:// URL such as http://localhost:4000/metrics (got "localhost:4000")'],
    [['--metrics-url', 'http://'], '--metrics-url: expected an http:// or https:// URL'],
  ])('refuses %j', (argv, message) => {
    expect(refusal(argv)).toContain(message);
  });
});
