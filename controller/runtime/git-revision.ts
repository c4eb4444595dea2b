/**
 * The git revision of the desired-state directory, so status says which commit it was computed
 * from: `<sha>` for a clean checkout, `<sha>-dirty` when files under the directory differ from it
 * (edited, added, removed).
 */
import { execFile } from "node:child_process";

export const DEFAULT_GIT_TIMEOUT_MS = 10_000;

export type RevisionResult = { revision: string } | { revision: undefined; reason: string };

interface GitOutput {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * The timeout is real time on purpose: it bounds a local process, and a scaled test clock would
 * kill git a hundred times too early.
 */
function git(dir: string, args: readonly string[], timeoutMs: number): Promise<GitOutput> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-C", dir, ...args],
      {
        timeout: timeoutMs,
        maxBuffer: 4 * 1024 * 1024,
        // Without optional locks `git status` neither takes nor rewrites the index: it stays a pure
        // read that cannot disturb someone committing in that checkout.
        env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      },
      (err, stdout, stderr) =>
        resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr || err?.message || "") }),
    );
  });
}

export async function gitRevision(dir: string, timeoutMs = DEFAULT_GIT_TIMEOUT_MS): Promise<RevisionResult> {
  const head = await git(dir, ["rev-parse", "--verify", "HEAD"], timeoutMs);
  if (!head.ok) return { revision: undefined, reason: head.stderr.trim().split("\n")[0] ?? "git failed" };
  const sha = head.stdout.trim();
  const status = await git(dir, ["status", "--porcelain", "--", "."], timeoutMs);
  if (!status.ok)
    return { revision: undefined, reason: status.stderr.trim().split("\n")[0] ?? "git status failed" };
  return { revision: status.stdout.trim() ? `${sha}-dirty` : sha };
}

/** The checkout's git directory (where HEAD and refs live), or undefined outside a checkout. */
export async function gitDir(dir: string, timeoutMs = DEFAULT_GIT_TIMEOUT_MS): Promise<string | undefined> {
  const out = await git(dir, ["rev-parse", "--absolute-git-dir"], timeoutMs);
  return out.ok ? out.stdout.trim() || undefined : undefined;
}
