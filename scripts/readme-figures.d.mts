// Types of scripts/readme-figures.mjs for the tests (the script itself runs as plain JavaScript).
export declare class FigureSourceError extends Error {}

export interface Envelope {
  readonly file: string;
  readonly commit: string;
  readonly command: string;
  readonly date: string;
  readonly config: Record<string, unknown>;
  readonly machine: Record<string, unknown>;
  readonly result: unknown;
}

export interface FigureLine {
  readonly text: string;
  readonly figure: string | null;
  readonly file: string | null;
}

export interface FigureBlock {
  readonly file: string;
  readonly name: string;
  readonly render: (load: (name: string) => Envelope) => FigureLine[];
}

export declare const BLOCKS: readonly FigureBlock[];
export declare function loadResult(root: string, name: string): Envelope;
export declare function run(
  root: string,
  options?: { write?: boolean; blocks?: readonly FigureBlock[] },
): { problems: string[]; written: string[] };
