/**
 * Reconciles one GuestUpdate: build the decision context from the store, read what the phase
 * needs, decide, apply. Everything the flow follows is in the update's own spec (the effective
 * policy fixed when the plan created it); the plan is read only for `suspend`.
 */
import type { GuestUpdate } from "../../src/api/guest-update.js";
import { RefitError } from "../../src/errors.js";
import type { RunProbe } from "../../src/health/contract.js";
import type { Deps } from "../context.js";
import { haltState } from "../runtime/kill-switch.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../runtime/manager.js";
import type { ObjectKey } from "../runtime/store.js";
import { apply, type ApplyTarget } from "./apply.js";
import { isFinal, PHASES, type Phase } from "./flow.js";
import { decideStopAgain, stopAgainNeeds, stopsAgain } from "./phases/stop-again.js";
import { emptyObservation, type GuestContext, type RunnerLookup } from "./observation.js";
import { failure } from "./phases/failure.js";
import { decideOperatorRollback } from "./phases/operator-rollback.js";
import { ANNOTATION_ROLLBACK_REQUESTED_AT, ANNOTATION_ROLLBACK_TO } from "../../src/api/version.js";
import { overallExpired } from "./phases/gates.js";
import { read, type ReadDeps } from "./read.js";
import { emptyStatus, fail, type Transition } from "./transition.js";

export interface GuestUpdateOptions {
  runners: RunnerLookup;
  runProbe: RunProbe;
}

export class GuestUpdateReconciler implements Reconciler {
  readonly kind = "GuestUpdate" as const;

  constructor(
    private readonly deps: Deps,
    private readonly opts: GuestUpdateOptions,
  ) {}

  async reconcile(ctx: ReconcileContext, key: ObjectKey): Promise<ReconcileResult> {
    const { store } = this.deps;
    const gu = await store.get("GuestUpdate", key.namespace, key.name);
    if (!gu) return;
    const cluster = await store.get("ProxmoxCluster", key.namespace, gu.spec.clusterRef.name);
    if (!cluster) return; // nothing to reach the container through; the cluster's own status says why
    startNewCycle(gu, this.deps.clock.now());
    const plan = await store.get("GuestUpdatePlan", key.namespace, gu.spec.planRef.name);
    const halt = await haltState(
      this.deps.killSwitch,
      plan ?? { kind: "GuestUpdatePlan", metadata: { name: gu.spec.planRef.name }, spec: {} },
      cluster,
    );
    const node = gu.status?.node ?? gu.spec.node;
    const gctx: GuestContext = {
      gu,
      node,
      status: gu.status ?? emptyStatus(),
      now: this.deps.clock.now(),
      timing: this.deps.timing,
      runners: this.opts.runners,
      ...(halt.halted ? { halt: { reason: halt.reason, message: halt.message } } : {}),
      ...rollbackRequestOf(gu),
    };
    const access = this.deps.fleet.for(cluster);
    const target: ApplyTarget = {
      gu,
      namespace: key.namespace,
      access,
      node,
      log: ctx.log.child({
        cluster: cluster.metadata.name,
        node,
        vmid: gu.spec.vmid,
        plan: gu.spec.planRef.name,
      }),
      deps: this.deps,
      signal: ctx.signal,
    };
    const t = await decide({ access, clock: this.deps.clock, runProbe: this.opts.runProbe }, gctx);
    const after = await apply(target, t);
    return after !== undefined ? { requeueAfter: after } : undefined;
  }
}

function rollbackRequestOf(gu: GuestUpdate): Pick<GuestContext, "rollbackRequest"> {
  const a = gu.metadata.annotations ?? {};
  const requestedAt = a[ANNOTATION_ROLLBACK_REQUESTED_AT];
  if (!requestedAt) return {};
  const to = a[ANNOTATION_ROLLBACK_TO];
  return { rollbackRequest: { requestedAt, ...(to ? { to } : {}) } };
}

/** A changed spec (a new cycle) starts over once the last run has ended. */
function startNewCycle(gu: GuestUpdate, now: number): void {
  const generation = gu.metadata.generation ?? 1;
  const phase = gu.status?.phase;
  if ((gu.status?.observedGeneration ?? 0) < generation && (phase === undefined || isFinal(phase)))
    gu.status = {
      ...emptyStatus(),
      ...(gu.status?.conditions ? { conditions: gu.status.conditions } : {}),
      phaseSince: new Date(now).toISOString(),
    };
}

const RESTORING = new Set(["RollingBack", "VerifyingRollback"]);
const STOP_AGAIN: Phase = { needs: stopAgainNeeds, decide: decideStopAgain };
const READ_STEPS = 3;

/** Reads what the phase needs (in at most two steps) and decides. A terminal error fails the update. */
export async function decide(deps: ReadDeps, ctx: GuestContext): Promise<Transition> {
  const name = ctx.status.phase ?? "Pending";
  const phase = stopsAgain(ctx) ? STOP_AGAIN : PHASES[name];
  // timeouts.overall bounds the update; a rollback under way is let finish within its own limit.
  const requested = decideOperatorRollback(ctx);
  if (requested) return requested;
  if (!isFinal(name) && !RESTORING.has(name) && overallExpired(ctx))
    return failure(
      ctx,
      "Timeout",
      `CT ${ctx.gu.spec.vmid} not updated within timeouts.overall (${ctx.gu.spec.policy.timeouts.overall}), in phase ${name}`,
    );
  try {
    // A phase may read in steps (the container's facts, then its jobs, then what a runner changed).
    let obs = await read(deps, ctx, phase.needs(ctx), emptyObservation());
    for (let step = 1; step < READ_STEPS; step++) obs = await read(deps, ctx, phase.needs(ctx, obs), obs);
    return phase.decide(ctx, obs);
  } catch (err) {
    if (err instanceof RefitError && !err.retryable)
      return fail(err.reason, err.message, {
        notes: [{ step: name, outcome: "failed", message: err.message }],
      });
    throw err;
  }
}
