import type { z } from "zod";
import { guestUpdate } from "./guest-update.js";
import { guestUpdatePlan } from "./guest-update-plan.js";
import { guestUpdatePolicy } from "./guest-update-policy.js";
import { hostPatch } from "./host-patch.js";
import { hostPatchPlan } from "./host-patch-plan.js";
import { maintenanceWindow } from "./maintenance-window.js";
import { notificationChannel } from "./notification-channel.js";
import { proxmoxCluster } from "./proxmox-cluster.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: z.ZodType;
  /** Made by the controller; users never write it in desired state. */
  child: boolean;
  printerColumns: PrinterColumn[];
}

const ready: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const reason: PrinterColumn = {
  name: "Reason",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  priority: 1,
};
const phase: PrinterColumn = { name: "Phase", type: "string", jsonPath: ".status.phase" };
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const message: PrinterColumn = {
  name: "Message",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
  priority: 1,
};

/** Every kind of the refit.dev API, in the order users usually meet them. */
export const KINDS = {
  ProxmoxCluster: {
    kind: "ProxmoxCluster",
    plural: "proxmoxclusters",
    singular: "proxmoxcluster",
    shortNames: ["pxc"],
    schema: proxmoxCluster,
    child: false,
    printerColumns: [
      ready,
      { name: "Quorate", type: "boolean", jsonPath: ".status.quorum.quorate" },
      { name: "Cluster", type: "string", jsonPath: ".status.clusterName" },
      reason,
      age,
    ],
  },
  HostPatchPlan: {
    kind: "HostPatchPlan",
    plural: "hostpatchplans",
    singular: "hostpatchplan",
    shortNames: ["hpp"],
    schema: hostPatchPlan,
    child: false,
    printerColumns: [
      ready,
      phase,
      { name: "Profile", type: "string", jsonPath: ".spec.profile" },
      { name: "Cluster", type: "string", jsonPath: ".spec.clusterRef.name" },
      { name: "Succeeded", type: "integer", jsonPath: ".status.succeeded" },
      { name: "Targets", type: "integer", jsonPath: ".status.targets" },
      reason,
      age,
    ],
  },
  HostPatch: {
    kind: "HostPatch",
    plural: "hostpatches",
    singular: "hostpatch",
    shortNames: ["hp"],
    schema: hostPatch,
    child: true,
    printerColumns: [
      ready,
      phase,
      { name: "Node", type: "string", jsonPath: ".spec.host" },
      { name: "Plan", type: "string", jsonPath: ".spec.planRef.name" },
      message,
      age,
    ],
  },
  GuestUpdatePlan: {
    kind: "GuestUpdatePlan",
    plural: "guestupdateplans",
    singular: "guestupdateplan",
    shortNames: ["gup"],
    schema: guestUpdatePlan,
    child: false,
    printerColumns: [
      ready,
      phase,
      { name: "Cluster", type: "string", jsonPath: ".spec.clusterRef.name" },
      { name: "Succeeded", type: "integer", jsonPath: ".status.counts.succeeded" },
      { name: "Targets", type: "integer", jsonPath: ".status.counts.targets" },
      reason,
      age,
    ],
  },
  GuestUpdatePolicy: {
    kind: "GuestUpdatePolicy",
    plural: "guestupdatepolicies",
    singular: "guestupdatepolicy",
    shortNames: ["gupol"],
    schema: guestUpdatePolicy,
    child: false,
    printerColumns: [
      ready,
      { name: "Plan", type: "string", jsonPath: ".spec.planRef.name" },
      { name: "Exclude", type: "boolean", jsonPath: ".spec.exclude" },
      reason,
      age,
    ],
  },
  GuestUpdate: {
    kind: "GuestUpdate",
    plural: "guestupdates",
    singular: "guestupdate",
    shortNames: ["gu"],
    schema: guestUpdate,
    child: true,
    printerColumns: [
      ready,
      phase,
      { name: "VMID", type: "integer", jsonPath: ".spec.vmid" },
      { name: "Node", type: "string", jsonPath: ".spec.node" },
      { name: "Plan", type: "string", jsonPath: ".spec.planRef.name" },
      message,
      age,
    ],
  },
  MaintenanceWindow: {
    kind: "MaintenanceWindow",
    plural: "maintenancewindows",
    singular: "maintenancewindow",
    shortNames: ["mw"],
    schema: maintenanceWindow,
    child: false,
    printerColumns: [
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
      { name: "Duration", type: "string", jsonPath: ".spec.duration" },
      { name: "TimeZone", type: "string", jsonPath: ".spec.timeZone" },
      { name: "Open", type: "boolean", jsonPath: ".status.open" },
      { name: "NextOpen", type: "string", jsonPath: ".status.nextOpen" },
      age,
    ],
  },
  NotificationChannel: {
    kind: "NotificationChannel",
    plural: "notificationchannels",
    singular: "notificationchannel",
    shortNames: ["nch"],
    schema: notificationChannel,
    child: false,
    printerColumns: [
      ready,
      { name: "Type", type: "string", jsonPath: ".spec.type" },
      { name: "MinSeverity", type: "string", jsonPath: ".spec.minSeverity" },
      { name: "Failures", type: "integer", jsonPath: ".status.failures" },
      age,
    ],
  },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as KindName[];

export function isKindName(value: unknown): value is KindName {
  return typeof value === "string" && Object.hasOwn(KINDS, value);
}

/** The parsed (defaults applied) type of each kind. */
export type RefitObjectOf<K extends KindName> = z.output<(typeof KINDS)[K]["schema"]>;
export type RefitObject = { [K in KindName]: RefitObjectOf<K> }[KindName];
