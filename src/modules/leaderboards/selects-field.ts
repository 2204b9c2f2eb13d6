import { Kind, type GraphQLResolveInfo, type SelectionNode } from 'graphql';

/**
 * Whether the query selects `name` on the value the current field returns,
 * directly or through fragments: lets a resolver fetch a part in its own
 * statement only when asked for. A field under @skip/@include counts as
 * selected (fetching it needlessly is harmless).
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const selects = (selections: readonly SelectionNode[]): boolean =>
    selections.some((selection) => {
      switch (selection.kind) {
        case Kind.FIELD:
          return selection.name.value === name;
        case Kind.INLINE_FRAGMENT:
          return selects(selection.selectionSet.selections);
        case Kind.FRAGMENT_SPREAD: {
          const fragment = info.fragments[selection.name.value];
          return fragment !== undefined && selects(fragment.selectionSet.selections);
        }
      }
    });
  return info.fieldNodes.some((node) => node.selectionSet !== undefined && selects(node.selectionSet.selections));
}
