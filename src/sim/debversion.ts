/**
 * The simulator orders versions as dpkg does, with the same comparison the typed client uses (it is
 * cross-checked against `dpkg --compare-versions` in test/pve/debian-version.test.ts).
 */
export { compareDebianVersions as compareDebVersions, newestVersion } from "../pve/debian-version.js";
