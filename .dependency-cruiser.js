// The layering rules `npm run lint:layers` checks (docs/architecture.md explains each layer and
// why). Every rule is an error, so a violation fails `npm test` and CI. From the bottom up:
//
//   lib/domain                      schemas and pure rules; imports nothing of ours
//   lib/powertools, tracing, runtime-env, middleware   telemetry and environment names
//   lib/store, lib/models, lib/workspace   one concern each, on top of the domain
//   lib/ports                       port interfaces and the rules both adapters share; aws/ adapters
//   lib/agents                      the agent loop, roles, tools, learning
//   lib/runtime.ts                  the deployed runtime: store, gateway and AWS adapters wired
//   lib/pipeline, lib/api           the goal pipeline's steps and the API's use cases
//   lib/local                       the local runtime: plays Lambda, API Gateway, SQS, Step Functions
//   lib/cli                         the `cahoots` command
//   functions/                      Lambda entry points (thin); infra/ CDK only
//
// A layer imports only layers below it. Tests, bench and chaos may import anything.

/** Cross-cutting modules every layer above the domain may use: logger/metrics, tracer, env names. */
const PLATFORM = '^lib/(powertools|tracing|runtime-env)[.]ts$';

/** Packages that load the AWS SDK, git or the local emulators: never in a CDK synth or a light bundle. */
const RUNTIME_PACKAGES =
  'node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|@middy|@octokit|isomorphic-git|dynalite|aws-local-stepfunctions)/';

/** The lib modules infra may read names and shapes from: pure data, no SDK. */
const INFRA_MAY_IMPORT = [
  '^lib/domain/',
  '^lib/runtime-env[.]ts$',
  '^lib/api/routes[.]ts$',
  '^lib/pipeline/definition[.]ts$',
  '^lib/detection/definition[.]ts$',
  '^lib/store/table-definition[.]ts$',
  '^lib/ports/aws/config[.]ts$',
];

/** What the agent loop sits under. */
const ABOVE_AGENTS = '^lib/(runtime[.]ts$|pipeline/|api/|local/|cli/)';

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle ties modules into one unit: neither can be loaded, bundled or tested without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      comment: 'lib/domain is schemas and pure rules: it imports nothing of ours outside lib/domain.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { path: '^(lib|functions|infra|bin|scripts|bench|chaos|test)/', pathNot: '^lib/domain/' },
    },
    {
      name: 'domain-uses-only-schema-packages',
      comment: 'The domain stays free of I/O: zod and ulid are its only packages.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: 'node_modules/(zod|ulid)/' },
    },
    {
      name: 'platform-imports-only-platform',
      comment: 'Telemetry and environment names sit under every layer, so they import none of them.',
      severity: 'error',
      from: { path: '^lib/(powertools|tracing|runtime-env|middleware)[.]ts$' },
      to: { path: '^lib/', pathNot: PLATFORM },
    },
    {
      name: 'store-models-workspace-import-only-domain',
      comment:
        'The store, the model gateway and the git workspace each do one job on top of the domain ' +
        '(plus logging, tracing and environment names); they never call one another or anything above.',
      severity: 'error',
      from: { path: '^lib/(store|models|workspace)/' },
      to: { path: '^(lib|functions|infra)/', pathNot: [`^lib/(domain|$1)/`, PLATFORM] },
    },
    {
      name: 'port-interfaces-import-only-domain',
      comment: 'A port is an interface (and the service rules both adapters share); it must not pull in an adapter.',
      severity: 'error',
      from: { path: '^lib/ports/[^/]+$' },
      to: { path: '^(lib|functions|infra)/', pathNot: ['^lib/domain/', '^lib/ports/[^/]+$', PLATFORM] },
    },
    {
      name: 'aws-adapters-only-in-the-runtime',
      comment:
        'Only the composition root (lib/runtime.ts, with the adapters each handler declares) chooses the ' +
        'AWS adapters; everything else is handed a port and never asks which one it got.',
      severity: 'error',
      from: { path: '^lib/', pathNot: ['^lib/ports/aws/', '^lib/runtime[.]ts$'] },
      to: { path: '^lib/ports/aws/' },
    },
    {
      name: 'agents-import-nothing-above',
      comment: 'The agent loop runs one task; the pipeline, API, runtime and local runtime drive it, not the reverse.',
      severity: 'error',
      from: { path: '^lib/agents/' },
      to: { path: ABOVE_AGENTS },
    },
    {
      name: 'pipeline-and-api-stay-apart',
      comment: 'The API starts and answers the pipeline through ports and may reuse its leaf rules; the pipeline never depends on the API.',
      severity: 'error',
      from: { path: '^lib/pipeline/' },
      to: { path: '^lib/api/' },
    },
    {
      name: 'detection-does-not-import-the-api',
      comment: 'Work detection (lib/detection) sits beside the pipeline and starts goals through the ports; the API may use it, never the reverse.',
      severity: 'error',
      from: { path: '^lib/detection/' },
      to: { path: '^lib/api/' },
    },
    {
      name: 'detection-does-not-reach-back',
      comment: 'The pipeline and the agents know nothing of detection: a finding reaches them only as a goal (source `detection`).',
      severity: 'error',
      from: { path: '^lib/(pipeline|agents)/' },
      to: { path: '^lib/detection/' },
    },
    {
      name: 'local-runtime-is-not-imported-by-lib',
      comment: 'lib/local stands in for AWS; only the CLI starts it.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/(local|cli)/' },
      to: { path: '^lib/local/' },
    },
    {
      name: 'cli-is-the-top',
      comment: 'Nothing in lib depends on the command line.',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/cli/' },
      to: { path: '^lib/cli/' },
    },
    {
      name: 'lib-does-not-import-entry-points',
      comment: 'lib holds the logic that handlers, the CLI and tests call; it never imports infra, scripts or tests.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(infra|bin|scripts|bench|chaos|test)/' },
    },
    {
      name: 'only-the-local-runtime-loads-handlers',
      comment:
        'Nothing imports a Lambda entry point, with one exception: lib/local plays Lambda and API Gateway ' +
        'locally, so it loads the deployed handlers in functions/ (the same code that runs in a cell).',
      severity: 'error',
      from: { path: '^(lib|infra|bin|scripts|bench|chaos)/', pathNot: '^lib/local/' },
      to: { path: '^functions/' },
    },
    {
      name: 'handlers-declare-adapters-with-dynamic-imports',
      comment:
        'A handler names its AWS adapters with declareCellPorts({ port: () => import(...) }): a static import ' +
        'would load the SDK clients in the local runtime and the tests, which load the same handlers.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^lib/ports/aws/', dependencyTypesNot: ['dynamic-import'] },
    },
    {
      name: 'handlers-do-not-import-the-local-runtime',
      comment: 'A deployed handler must never bundle the local emulators or the CLI.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^lib/(local|cli)/' },
    },
    {
      name: 'api-handlers-do-not-load-pipeline-steps-or-agents',
      comment:
        'An API route answers from the table and the ports. It may use the pipeline\'s leaf modules ' +
        '(goal state, inputs, policy, …) but never a pipeline step or the agent loop, which would pull ' +
        'the model gateway and the agents into every API bundle. Redaction is the one agent module ' +
        'allowed: it imports nothing, and the webhook redacts an issue the way the issue detector does.',
      severity: 'error',
      from: { path: '^functions/api/' },
      to: {
        path: ['^lib/agents/', '^lib/pipeline/'],
        pathNot: ['^lib/pipeline/(goal-state|dispatch|events|errors|inputs|policy|definition)[.]ts$', '^lib/agents/redaction[.]ts$'],
        reachable: true,
      },
    },
    {
      name: 'infra-imports-only-sdk-free-lib-modules',
      comment: 'CDK code reads names and shapes from lib, never runtime code: a synth must not load the runtime.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^(lib|functions)/', pathNot: INFRA_MAY_IMPORT },
    },
    {
      name: 'infra-reaches-no-runtime-package',
      comment: 'The lib modules infra imports must stay SDK-free, including everything they import in turn.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: RUNTIME_PACKAGES, reachable: true },
    },
    {
      name: 'runtime-code-uses-no-dev-dependency',
      comment:
        'Lambda bundles and the installed CLI get only `dependencies`: lib and functions must not need ' +
        'a devDependency (aws-cdk-lib, vitest, …) at run time. Type-only imports vanish at build.',
      severity: 'error',
      from: { path: '^(lib|functions)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    // node_modules may be a symlink (a shared install); keep its paths as node_modules/… so the
    // rules above match however the packages were installed.
    preserveSymlinks: true,
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type cycle or an upward type import is still a layering mistake.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
