/** Loads every simulated program into the registry (each module registers itself). */
import "./coreutils.js";
import "./system.js";
import "./dmesg.js";
import "./pvesh.js";
import "./pvecm.js";
import "./systemd.js";
import "./apt.js";
import "./qm-pct.js";
import "./ha-manager.js";
import "./pbs.js";
import "./backup.js";
import "../ecosystems/all.js";
import "./ceph.js";
import "../health/http-clients.js";
