// The layer order of docs/design.md, checked by `npm run lint` (depcruise):
// an import only points down, and no files import each other in a loop.
// Floors, bottom to top; a file may import its own floor's folder and any
// floor below. Folders that share a floor are independent of each other,
// except where SIBLINGS says otherwise.
const FLOORS = [
  ['config', '^src/config\\.ts$'],
  ['db', '^src/db/'],
  ['graphql', '^src/graphql/'],
  ['writes', '^src/writes/'],
  ['cross-cutting', '^src/(cache|rate-limit|realtime|observability|persisted-queries)/'],
  ['modules', '^src/modules/'],
  ['app', '^src/app/'],
  ['entry points', '^src/(http|jobs|cli)/'],
  ['main', '^src/main\\.ts$'],
];

/** Services on one floor that may use another of that floor: a command line runs jobs. */
const SIBLINGS = [['^src/cli/', '^src/jobs/']];

const layerRules = FLOORS.slice(0, -1).map(([name, from], index) => ({
  name: `${name}-imports-up`,
  comment: `${name} sits below ${FLOORS.slice(index + 1)
    .map(([above]) => above)
    .join(', ')}: it may not import them (docs/design.md, Layers).`,
  severity: 'error',
  from: { path: from },
  to: { path: FLOORS.slice(index + 1).map(([, above]) => above) },
}));

// Siblings on a shared floor: src/cache/ may not import src/rate-limit/, and so on.
const siblingRules = FLOORS.filter(([, pattern]) => pattern.includes('|')).flatMap(([name, pattern]) => {
  const folders = pattern.match(/\(([^)]+)\)/)[1].split('|');
  return folders.map((folder) => ({
    name: `${name}-${folder}-imports-a-sibling`,
    comment: `src/${folder}/ shares its floor with ${folders.filter((other) => other !== folder).join(', ')}: they stay independent (docs/design.md, Layers).`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: {
      path: folders.filter((other) => other !== folder).map((other) => `^src/${other}/`),
      pathNot: SIBLINGS.filter(([a]) => a === `^src/${folder}/`).map(([, b]) => b),
    },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files that import each other in a loop cannot be understood, tested or moved one at a time.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...siblingRules,
    {
      name: 'domain-resolvers-call-another-domain',
      comment:
        'A domain owns the fields it resolves, whatever type they sit on (docs/design.md, Layers): a field answered by ' +
        "another domain's loaders or SQL belongs in that domain's resolvers (conversations/ declares User.conversations). " +
        'Types (rows, NodeFetchers) may be shared.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/resolvers\\.ts$' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-imports-tests-or-bench',
      comment: 'The product never imports its tests or benchmarks.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    // Generated code (codegen's resolver types name the domains' row types) is no floor of its own.
    exclude: { path: ['^src/generated/', 'node_modules'] },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.mts'] },
  },
};
