export * from "./gates/index.js";
