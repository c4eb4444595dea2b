import { z } from "zod";
import { withRules } from "./cel.js";
import { glob, vmidOrRange } from "./primitives.js";

/** Proxmox tag syntax (`pve-tag`): letters, digits, `_`, `-`, `+`, `.`; not starting with `-`, `+` or `.`. */
export const proxmoxTag = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_+.-]*$/, "must be a Proxmox tag: letters, digits, '_', '-', '+' and '.'");

/** Proxmox resource pool id (`pve-poolid`). */
export const proxmoxPoolId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "must be a Proxmox pool id: letters, digits, '_', '-' and '.'");

/**
 * Guest kinds a GuestUpdatePlan may select. Only containers: every runner executes inside the guest
 * through `pct exec`, which has no counterpart for VMs short of the QEMU guest agent. The field exists
 * so that plans keep their meaning when VM support arrives.
 */
export const selectableGuestType = z.enum(["lxc"]);
export type SelectableGuestType = z.infer<typeof selectableGuestType>;

const LIST_MAX = 256;

/** Criteria shared by `selector` and `selector.exclude`; how they combine is documented on each. */
const criteriaShape = {
  tags: z
    .array(proxmoxTag)
    .max(LIST_MAX)
    .default([])
    .describe("Proxmox tags; a guest carrying any one of them matches"),
  allTags: z
    .array(proxmoxTag)
    .max(LIST_MAX)
    .default([])
    .describe("Proxmox tags; a guest matches only if it carries every one of them"),
  names: z
    .array(glob)
    .max(LIST_MAX)
    .default([])
    .describe("Globs over guest names (`web-*`, `db-[12]`); `*` matches every guest"),
  vmids: z
    .array(vmidOrRange)
    .max(LIST_MAX)
    .default([])
    .describe('Guest ids or inclusive ranges written as strings (`105`, `"200-299"`)'),
  pools: z.array(proxmoxPoolId).max(LIST_MAX).default([]).describe("Proxmox resource pools"),
  nodes: z
    .array(glob)
    .max(LIST_MAX)
    .default([])
    .describe("Globs over the names of the nodes hosting the guests"),
};

const CRITERIA = ["tags", "allTags", "names", "vmids", "pools", "nodes"] as const;

/** CEL: at least one criterion list is present and non-empty. */
const ANY_CRITERION_CEL = CRITERIA.map((f) => `(has(self.${f}) && size(self.${f}) > 0)`).join(" || ");

export const guestExclusion = z
  .strictObject(criteriaShape)
  .describe(
    "Guests to leave alone even if selected. A guest is excluded when it matches ANY non-empty field here " +
      "(e.g. a vmid listed OR a tag carried)",
  );
export type GuestExclusion = z.infer<typeof guestExclusion>;

/**
 * Which guests a plan updates. Non-empty fields are ANDed (a guest must match every one), values
 * inside one field are ORed (except `allTags`), then `exclude` removes guests. Selecting every
 * container takes an explicit `names: ["*"]`: a selector with no criterion is rejected, so that a
 * typo can never turn a plan loose on the whole fleet.
 */
export const guestSelector = withRules(
  z.strictObject({
    ...criteriaShape,
    types: z
      .array(selectableGuestType)
      .min(1)
      .max(1)
      .default(["lxc"])
      .describe("Guest kinds to select; only lxc is supported, runners execute through pct exec"),
    exclude: guestExclusion.prefault({}),
  }),
  [
    {
      rule: ANY_CRITERION_CEL,
      message:
        "selector selects nothing: set at least one of tags, allTags, names, vmids, pools or nodes " +
        '(use names: ["*"] to mean every container)',
      check: (s) => CRITERIA.some((f) => s[f].length > 0),
    },
  ],
).describe(
  "Which containers the plan updates: non-empty fields must all match, values in one field are alternatives, " +
    "then exclude removes guests",
);
export type GuestSelector = z.infer<typeof guestSelector>;
