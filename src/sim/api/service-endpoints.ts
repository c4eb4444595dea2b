import type { ServiceState } from "../model/state.js";
import { serviceDescription, serviceSubState } from "../model/services.js";
import { ApiError, registerEndpoints, type ApiRequest } from "./router.js";

/**
 * GET /nodes/<n>/services, /services/<service> and /services/<service>/state
 * (pve-manager PVE/API2/Services.pm): the service ids are a fixed enumeration; the state is
 * systemd's SubState (`state`), UnitFileState (`unit-state`, `not-found` when the unit is not
 * installed) and ActiveState (`active-state`) as `systemctl show` reports them, and `desc` is the
 * unit's Description.
 */

/** Services.pm $service_name_list. */
export const SERVICE_IDS = [
  "chrony",
  "corosync",
  "cron",
  "ksmtuned",
  "lxcfs",
  "postfix",
  "proxmox-firewall",
  "pve-cluster",
  "pve-firewall",
  "pve-ha-crm",
  "pve-ha-lrm",
  "pve-lxc-syscalld",
  "pvedaemon",
  "pvefw-logger",
  "pveproxy",
  "pvescheduler",
  "pvestatd",
  "qmeventd",
  "spiceproxy",
  "sshd",
  "syslog",
  "systemd-journald",
  "systemd-timesyncd",
];

/** Unit aliases: `systemctl show sshd` is ssh.service on Debian, `syslog` is rsyslog. */
const UNIT_OF: Record<string, string> = { sshd: "ssh", syslog: "rsyslog" };

function serviceState(services: Record<string, ServiceState>, id: string): Record<string, string> {
  const unit = UNIT_OF[id] ?? id;
  const svc = services[unit];
  const desc = serviceDescription(unit);
  if (!svc)
    return {
      service: id,
      name: id,
      desc,
      state: "dead",
      "unit-state": "not-found",
      "active-state": "inactive",
    };
  return {
    service: id,
    name: id,
    desc,
    state: serviceSubState(svc.active),
    "unit-state": svc.enabled ? "enabled" : "disabled",
    "active-state": svc.active,
  };
}

function checkId(id: string): void {
  if (!SERVICE_IDS.includes(id))
    throw new ApiError(
      400,
      `Parameter verification failed.\nservice: value '${id}' does not have a value in the enumeration '${SERVICE_IDS.join(", ")}'`,
    );
}

function hostServices(req: ApiRequest): Record<string, ServiceState> {
  return req.sim.state.hosts[req.path[0]!]!.services;
}

export function registerServiceEndpoints(node: (m: string[]) => string, nodePattern: string): void {
  registerEndpoints([
    {
      pattern: new RegExp(`^/nodes/${nodePattern}/services$`),
      node,
      params: {},
      get: (r) => SERVICE_IDS.map((id) => serviceState(hostServices(r), id)),
    },
    {
      pattern: new RegExp(`^/nodes/${nodePattern}/services/([^/]+)$`),
      node,
      params: {},
      get: (r) => {
        checkId(r.path[1]!);
        return ["state", "start", "stop", "restart", "reload"].map((subdir) => ({ subdir }));
      },
    },
    {
      pattern: new RegExp(`^/nodes/${nodePattern}/services/([^/]+)/state$`),
      node,
      params: {},
      get: (r) => {
        checkId(r.path[1]!);
        return serviceState(hostServices(r), r.path[1]!);
      },
    },
  ]);
}
