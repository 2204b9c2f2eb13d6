// Types of image-tree.mjs, for the test that imports it.
export interface ImageStep {
  /** The line as it stands in the Dockerfile. */
  step: string;
  /** What runs instead outside the image, where the line cannot run as written. */
  here?: (stage: string) => void;
}
export declare const STAGES: Record<'build' | 'deps' | 'runtime', ImageStep[]>;
export declare function buildImageTree(folder: string, log?: (line: string) => void): string;
