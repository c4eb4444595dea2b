/** The outcome of one probe attempt: passed or not, how long it took, and why it failed. */
export interface Attempt {
  ok: boolean;
  latencyMs?: number;
  message?: string;
}

export function passed(latencyMs: number): Attempt {
  return { ok: true, latencyMs };
}

export function failed(message: string, latencyMs?: number): Attempt {
  return latencyMs === undefined ? { ok: false, message } : { ok: false, message, latencyMs };
}

/** What a thrown error from the io says, for a message (a refused connection, a timeout). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
