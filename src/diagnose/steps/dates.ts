export const DAY_MS = 86_400_000;

/** ISO 8601 text of a date, null without one (the document's form for optional dates). */
export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}
