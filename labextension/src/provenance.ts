/**
 * Where an answer came from (a prepared answer or the model), in words.
 *
 * Pure logic: no DOM, no Jupyter imports, unit-tested with Jest.
 */
import type { AnswerSource } from './types';

// Whether a question hits a prepared ("anticipated") answer is decided by the
// server alone: it knows whether the notebook changed since the answer was
// prepared, and matches questions its own way. The frontend only shows what
// the server says it matched.

/** What the answer view needs to say where an answer came from. */
export interface IProvenanceInput {
  source: AnswerSource | null;
  /** The prepared question the server matched (prepared answers only). */
  matched?: string | null;
  /** Prepared answers were skipped at the user's request. */
  fresh?: boolean;
}

/**
 * One line on an answer's origin: "prepared answer to: '<matched question>'"
 * for a prepared answer, so the user sees which question was really answered;
 * null while the origin is unknown.
 */
export function provenanceLabel(input: IProvenanceInput): string | null {
  if (input.source === 'anticipated') {
    const matched = (input.matched ?? '').replace(/\s+/g, ' ').trim();
    return matched ? `prepared answer to: '${matched}'` : 'prepared answer';
  }
  if (input.source === 'model') {
    return input.fresh
      ? 'answered by the model (prepared answers skipped)'
      : 'answered by the model';
  }
  return null;
}

/** Whether to offer "ask the model instead" for a finished answer. */
export function canAskModelInstead(
  answer:
    | {
        source: AnswerSource | null;
        streaming: boolean;
        error: string | null;
      }
    | null
    | undefined
): boolean {
  return (
    !!answer &&
    !answer.streaming &&
    !answer.error &&
    answer.source === 'anticipated'
  );
}
