// Job titles and industries arrive as people type them ("Co-Founder & CEO", "computer-software");
// matching on words rather than raw substrings keeps "cto" from matching inside "director".
export function normalizeWords(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** True when every word of the keyword appears, in order and adjacent, as whole words of the text. */
export function containsWords(normalizedText: string, normalizedKeyword: string): boolean {
  return ` ${normalizedText} `.includes(` ${normalizedKeyword} `);
}

export function signed(points: number): string {
  return points >= 0 ? `+${points}` : `${points}`;
}
