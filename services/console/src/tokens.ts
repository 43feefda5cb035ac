/** Nest injection tokens of the console. */
export const CONSOLE_OPTIONS = Symbol('console.options');
