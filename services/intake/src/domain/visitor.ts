// The tracking cookie's id travels into logs, URLs and store keys; a tight alphabet keeps it inert
// in all of them, and 128 matches the proto's limit.
const VISITOR_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Whether an anonymous visitor id is usable: 1 to 128 characters of A-Z, a-z, 0-9, ".", "_", "-". */
export function isValidVisitorId(id: string): boolean {
  return VISITOR_ID.test(id);
}
