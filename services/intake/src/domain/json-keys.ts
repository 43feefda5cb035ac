/**
 * The path to the first key that an object in `json` gives twice (["contact", "email"]), or
 * undefined when every object's keys are distinct. JSON.parse keeps the last of two equal keys
 * without a word, so "which email did they mean?" would be guessed; this finds the ambiguity
 * instead. Keys are compared decoded, so "email" and "\u0065mail" are the same key. `json` must
 * already have parsed; the scan is iterative, so no nesting depth can overflow the stack.
 */
export function findDuplicateKey(json: string): string[] | undefined {
  // One frame per open object or array; an object's frame holds its keys so far and the current one.
  const frames: { keys?: Set<string>; current?: string }[] = [];
  let expectingKey = false;
  for (let i = 0; i < json.length; i++) {
    const char = json[i];
    if (char === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const top = frames.at(-1);
      if (expectingKey && top?.keys !== undefined) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return [...frames.slice(0, -1).map((frame) => frame.current ?? '[]'), key];
        top.keys.add(key);
        top.current = key;
        expectingKey = false;
      }
      i = end;
    } else if (char === '{') {
      frames.push({ keys: new Set() });
      expectingKey = true;
    } else if (char === '[') {
      frames.push({});
      expectingKey = false;
    } else if (char === '}' || char === ']') {
      frames.pop();
    } else if (char === ',') {
      expectingKey = frames.at(-1)?.keys !== undefined;
    }
  }
  return undefined;
}
