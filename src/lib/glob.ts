// Path globs for chaos rules. Written here rather than taken from picomatch because picomatch
// pulls Node's `path` into the Worker bundle and we need only `*`, `**` and `?` on URL paths.
const cache = new Map<string, RegExp>();

/**
 * True when `path` matches `glob`: `*` stays within one segment, `**` crosses segments.
 * @example globMatch("/v1/charges/*", "/v1/charges/ch_1") // true
 */
export function globMatch(glob: string, path: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    let src = "";
    for (let i = 0; i < glob.length; i++) {
      const c = glob[i];
      if (c === "*" && glob[i + 1] === "*") { src += ".*"; i++; }
      else if (c === "*") src += "[^/]*";
      else if (c === "?") src += "[^/]";
      else src += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
    re = new RegExp(`^${src}$`);
    if (cache.size > 1000) cache.clear();
    cache.set(glob, re);
  }
  return re.test(path);
}
