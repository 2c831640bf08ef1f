export { default } from "../migration-set.d.ts";
