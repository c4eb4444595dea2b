/** Loads every container ecosystem (apt is a host program too and lives in apt/). */
import "./pip.js";
import "./npm.js";
import "./compose.js";
import "./os-packages.js";
