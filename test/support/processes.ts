// Internal: Parley's commands run as users run them, each in its own process:
// the server (src/main.ts) and the command-line tools (src/cli/*.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a child process: the test's own, without what would point it at a developer's database or Redis, plus `env`. */
export function childEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EMBEDDED_DATA_DIR', 'EMBEDDED_PORT', 'PORT', 'JWT_SECRET', 'NODE_ENV']) delete inherited[name];
  return { ...inherited, ...env };
}

/** Runs a command to its end. `command` is a script path (`src/cli/token.ts`), run with tsx, or `node` arguments for a built file. */
export function runCommand(script: string, args: string[], env: Record<string, string>, options: { tsx?: boolean; cwd?: string } = {}): Promise<CommandResult> {
  const nodeArguments = options.tsx === false ? [script, ...args] : ['--import', 'tsx', script, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, nodeArguments, { env: childEnvironment(env), cwd: options.cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

export interface RunningServer {
  process: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** The demo token, when the server printed one. */
  demoToken: string | undefined;
  /** Everything printed so far, stdout and stderr. */
  output: string[];
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts the server and resolves once it listens (and, with `waitForDemoToken`,
 * has printed the demo token, which follows). `nodeFlags` go before the
 * script (`npm start`'s V8 settings, for a build).
 */
export async function startServer(
  env: Record<string, string>,
  options: { script?: string; tsx?: boolean; cwd?: string; waitForDemoToken?: boolean; nodeFlags?: string[] } = {},
): Promise<RunningServer> {
  const script = options.script ?? 'src/main.ts';
  const nodeArguments = [...(options.nodeFlags ?? []), ...(options.tsx === false ? [script] : ['--import', 'tsx', script])];
  const child = spawn(process.execPath, nodeArguments, {
    env: childEnvironment({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env }),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    return code;
  };
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    child.stdout.on('data', (chunk) => {
      output.push(String(chunk));
      const text = output.join('');
      url ??= text.match(/GraphQL at (http:\/\/\S+)\/graphql/)?.[1]?.replace('localhost', '127.0.0.1');
      if (!url) return;
      const demoToken = text.match(/^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m)?.[1];
      if (demoToken || !options.waitForDemoToken) resolve({ process: child, url, demoToken, output, stop });
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output.join('')}`)));
  });
}

/** Sends a GraphQL operation over HTTP as a client would. */
export async function graphql<Data = Record<string, unknown>>(
  url: string,
  query: string,
  options: { token?: string; variables?: Record<string, unknown> } = {},
): Promise<{ status: number; data?: Data; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}
