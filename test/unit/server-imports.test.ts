// What the server loads: the seed and the development tools only when asked
// for (a dynamic import), so that the container image can leave them out or
// keep them unloaded; and no module under src/ imports a package that a
// production install (`npm ci --omit=dev`) lacks.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

interface Imports {
  /** Imports that load a module when this one loads (type-only imports are erased). */
  static: string[];
  /** import('…') */
  dynamic: string[];
}

function importsOf(file: string): Imports {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2023, true);
  const found: Imports = { static: [], dynamic: [] };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.importClause?.namedBindings;
      const onlyTypes =
        !node.importClause?.name && named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly);
      if (!onlyTypes) found.static.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.static.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0]!)) {
      found.dynamic.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const resolveLocal = (from: string, specifier: string) => path.join(path.dirname(from), specifier).replace(/\.js$/, '.ts');
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const isBuiltin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier);

/** Every module the server loads at start, and the packages they import. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of importsOf(file).static) {
      if (specifier.startsWith('.')) pending.push(resolveLocal(file, specifier));
      else if (!isBuiltin(specifier)) packages.add(packageOf(specifier));
    }
  }
  return { files, packages };
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

it('the server loads neither the seed nor development tools at start', () => {
  const { files, packages } = staticGraph('src/main.ts');
  expect(files.size).toBeGreaterThan(20);
  expect([...files].filter((file) => file.startsWith('src/cli/seed/'))).toEqual([]);
  for (const lazy of ['@faker-js/faker', 'cli-progress', 'pino-pretty', 'tsx']) expect({ lazy, loaded: packages.has(lazy) }).toEqual({ lazy, loaded: false });
  // The seed is still reachable, on demand.
  expect(importsOf('src/main.ts').dynamic).toContain('./cli/seed/seed.js');
});

// Development-only packages the server loads on demand, after checking they are installed (src/http/explorer.ts).
const OPTIONAL_DEVELOPMENT_PACKAGES = new Set(['ruru']);

it('every package imported under src/ is a production dependency, or an optional development one loaded on demand', () => {
  const files = ts.sys
    .readDirectory('src', ['.ts'])
    .map((file) => path.relative(process.cwd(), file))
    .filter((file) => !file.endsWith('.test.ts'));
  const missing: string[] = [];
  for (const file of files) {
    const { static: loaded, dynamic } = importsOf(file);
    for (const specifier of [...loaded, ...dynamic]) {
      if (specifier.startsWith('.') || isBuiltin(specifier)) continue;
      const name = packageOf(specifier);
      const optional = OPTIONAL_DEVELOPMENT_PACKAGES.has(name) && !loaded.includes(specifier) && manifest.devDependencies[name];
      if (!manifest.dependencies[name] && !optional) missing.push(`${file}: ${specifier}`);
    }
  }
  expect(missing).toEqual([]);
  // Development tools stay out of the production install.
  for (const tool of ['tsx', 'pino-pretty', 'typescript', 'prisma']) expect(manifest.devDependencies[tool]).toBeDefined();
});
