import type { Command } from "commander";
import { guestUpdate, snapshotName } from "../../../src/api/guest-update.js";
import { latestChild, writeRollbackRequest } from "../../guest-update-plan/rollback-request.js";
import { DEFAULT_STATE_DIR } from "../../runtime/state-dir.js";
import { readStateSnapshot } from "../../runtime/state-reader.js";
import { EXIT } from "../exit-codes.js";
import type { Io } from "../io.js";

export interface RollbackOptions {
  plan: string;
  vmid: string;
  to?: string;
  state: string;
  namespace?: string;
  /** The request's time (tests); default now. */
  now?: number;
}

/**
 * `refit rollback <plan> <vmid> [--to SNAPSHOT]`: asks the controller to restore the container's
 * backup. The request goes to the container's latest GuestUpdate, whose flow restores, starts and
 * verifies it with the same proof as an automatic rollback. The command returns once the request is
 * recorded; `refit status` shows the rollback.
 */
export async function rollbackCommand(opts: RollbackOptions, io: Io): Promise<number> {
  const vmid = Number(opts.vmid);
  if (!/^\d+$/.test(opts.vmid) || vmid < 100) {
    io.err(`refit rollback: ${opts.vmid} is not a vmid (a whole number from 100)`);
    return EXIT.invalid;
  }
  if (opts.to !== undefined && !snapshotName.safeParse(opts.to).success) {
    io.err(
      `refit rollback: --to ${opts.to} is not a backup Refit took (refit-<plan>-<yyyyMMddHHmmss>); ` +
        "Refit restores only its own backups: list them with `pct listsnapshot " +
        `${vmid}` +
        "`",
    );
    return EXIT.invalid;
  }
  const ns = opts.namespace ?? "";
  const { objects } = await readStateSnapshot(opts.state);
  const plan = objects.find(
    (o) =>
      o.kind === "GuestUpdatePlan" && o.metadata.name === opts.plan && (o.metadata.namespace ?? "") === ns,
  );
  if (!plan) {
    io.err(
      `refit rollback: there is no GuestUpdatePlan/${opts.plan} in ${opts.state}; is the controller running with --state ${opts.state}?`,
    );
    return EXIT.invalid;
  }
  const children = objects
    .filter((o) => o.kind === "GuestUpdate" && o.metadata.labels?.["refit.dev/plan"] === opts.plan)
    .map((o) => guestUpdate.safeParse(o))
    .filter((r) => r.success)
    .map((r) => r.data);
  const child = latestChild(children, vmid);
  if (!child) {
    io.err(
      `refit rollback: GuestUpdatePlan/${opts.plan} has not updated container ${vmid}; there is nothing of Refit's to roll back to`,
    );
    return EXIT.invalid;
  }
  const target = opts.to ?? child.status?.snapshot?.name;
  if (!target) {
    io.err(
      `refit rollback: GuestUpdate/${child.metadata.name} took no backup (phase ${child.status?.phase ?? "Pending"}); name one with --to`,
    );
    return EXIT.invalid;
  }
  const requestedAt = new Date(opts.now ?? Date.now()).toISOString();
  await writeRollbackRequest(opts.state, ns, opts.plan, {
    vmid,
    requestedAt,
    ...(opts.to ? { to: opts.to } : {}),
  });
  io.out(
    `rollback of ${vmid} to ${target} requested (GuestUpdate/${child.metadata.name}, at ${requestedAt}); ` +
      `the controller restores, starts and verifies it; watch it with: refit status --state ${opts.state}`,
  );
  return EXIT.ok;
}

export function registerRollback(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("rollback")
    .description("Restore a container from the backup Refit took before its update (or --to an older one)")
    .argument("<plan>", "the GuestUpdatePlan")
    .argument("<vmid>", "the container")
    .option(
      "--to <snapshot>",
      "a Refit backup of this container (refit-<plan>-<yyyyMMddHHmmss>); default the update's own",
    )
    .option("-s, --state <dir>", "state directory of the controller", DEFAULT_STATE_DIR)
    .action(async (plan: string, vmid: string, opts: { to?: string; state: string }) => {
      setExit(
        await rollbackCommand({ plan, vmid, state: opts.state, ...(opts.to ? { to: opts.to } : {}) }, io),
      );
    });
}
