import type { GraphQLResolveInfo } from 'graphql';
import { collectFields } from '../../graphql/selections.js';

/**
 * Whether the query selects `name` on the value the current field returns,
 * directly or through fragments: lets a resolver fetch a part in its own
 * statement only when asked for. A field under @skip/@include counts as
 * selected (fetching it needlessly is harmless).
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const selected = collectFields(
    info.fieldNodes.flatMap((node) => node.selectionSet ?? []),
    info.fragments,
  );
  for (const nodes of selected.values()) if (nodes.some((node) => node.name.value === name)) return true;
  return false;
}
