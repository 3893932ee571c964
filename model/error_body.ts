/**
 * The message of an API error body, `{error: {code, message}}`, for clients
 * that show it; `undefined` when the body is something else.
 *
 * @module
 */
export function errorMessageOf(text: string): string | undefined {
  try {
    const message = JSON.parse(text)?.error?.message;
    return typeof message === "string" ? message : undefined;
  } catch {
    return undefined;
  }
}
