import { apt, aptGet } from "../apt/apt-get.js";
import { aptMark } from "../apt/apt-mark.js";
import { dpkg, dpkgQuery } from "../apt/dpkg.js";
import type { Place } from "../exec/place.js";
import { registerCommands } from "./registry.js";

/** apt lives on every host and in containers whose OS uses it. */
const hasApt = (p: Place): boolean => p.kind === "host" || p.guest.contents?.os.apt !== undefined;

registerCommands([
  { name: "apt-get", path: "/usr/bin/apt-get", available: hasApt, handler: aptGet },
  { name: "apt", path: "/usr/bin/apt", available: hasApt, handler: apt },
  { name: "apt-mark", path: "/usr/bin/apt-mark", available: hasApt, handler: aptMark },
  { name: "dpkg", path: "/usr/bin/dpkg", available: hasApt, handler: dpkg },
  { name: "dpkg-query", path: "/usr/bin/dpkg-query", available: hasApt, handler: dpkgQuery },
]);
