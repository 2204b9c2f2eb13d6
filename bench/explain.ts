// Internal: a statement's EXPLAIN (ANALYZE, BUFFERS) read as figures (the
// planning and execution times, the buffers) and its plan's shape in one
// line, for the partitioning benchmark's table of hot statements.

/** A statement as sent: its text and parameters. */
export interface SentStatement {
  text: string;
  values: unknown[];
}

/** A node of EXPLAIN (FORMAT JSON)'s plan, the fields read here. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  'Subplans Removed'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

export interface ExplainFigures {
  planningMs: number;
  executionMs: number;
  /** JIT compilation's part of the execution, when the plan was compiled. */
  jitMs: number;
  /** Buffers of the execution, found in shared buffers and read (from the OS's cache or the disk). */
  sharedHit: number;
  sharedRead: number;
}

export interface PlanShape {
  /** The plan's nodes, runs of alike subplans over partitions collapsed: `Limit(Merge Append(29× Index Scan on partition))`. */
  shape: string;
  /** Partitions of `partitionsOf` in the plan, and of those the ones run at least once. */
  partitionsInPlan: number;
  partitionsRun: number;
  /** Partitions left out when the executor started or at each rescan (run-time pruning). */
  subplansRemoved: number;
}

/** The figures of one EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) result. */
export function explainFigures(result: unknown): ExplainFigures & { plan: PlanNode } {
  const [top] = result as [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number; JIT?: { Timing?: { Total?: number } } }];
  return {
    planningMs: top['Planning Time'],
    executionMs: top['Execution Time'],
    jitMs: top.JIT?.Timing?.Total ?? 0,
    sharedHit: top.Plan['Shared Hit Blocks'] ?? 0,
    sharedRead: top.Plan['Shared Read Blocks'] ?? 0,
    plan: top.Plan,
  };
}

/** The shape of a plan; `isPartition` tells a partition's relation name (its scans are collapsed and counted). */
export function planShape(plan: PlanNode, isPartition: (relation: string) => boolean): PlanShape {
  const planned = new Set<string>();
  const run = new Set<string>();
  let subplansRemoved = 0;
  const visit = (node: PlanNode) => {
    const relation = node['Relation Name'];
    if (relation && isPartition(relation)) {
      planned.add(relation);
      if ((node['Actual Loops'] ?? 0) > 0) run.add(relation);
    }
    subplansRemoved += node['Subplans Removed'] ?? 0;
    node.Plans?.forEach(visit);
  };
  visit(plan);

  const label = (node: PlanNode) => `${node['Node Type']}${node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`;
  // A partition's name reads `partition`, so that the scans of all of them read alike and collapse into one entry with a count.
  const generic = (text: string) => text.replace(/\bon ([a-z_][a-z0-9_]*)/g, (match, relation: string) => (isPartition(relation) ? 'on partition' : match));
  const format = (node: PlanNode): string => {
    const children = (node.Plans ?? []).map(format);
    if (children.length === 0) return label(node);
    const parts: string[] = [];
    for (let index = 0; index < children.length;) {
      let end = index + 1;
      while (end < children.length && generic(children[end]!) === generic(children[index]!)) end += 1;
      parts.push(end - index > 1 ? `${end - index}× ${generic(children[index]!)}` : children[index]!);
      index = end;
    }
    return `${label(node)}(${parts.join(', ')})`;
  };
  return { shape: format(plan), partitionsInPlan: planned.size, partitionsRun: run.size, subplansRemoved };
}
