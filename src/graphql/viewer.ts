import { UnauthenticatedError } from './errors.js';

/** The signed-in user a request acts for: the subject of its bearer token. */
export interface Viewer {
  id: number;
}

/** The signed-in user, or UNAUTHENTICATED: for fields and mutations that need one. */
export function requireViewer(context: { viewer: Viewer | null }): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}
