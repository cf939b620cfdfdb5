// How numbers and times are shown.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** A size in bytes, in the largest binary unit it has at least one of. */
export function bytes(n) {
  let value = Number(n ?? 0);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** A count with digit grouping. */
export function count(n) {
  return Number(n ?? 0).toLocaleString("en-US");
}

/** An instant given in nanoseconds since the epoch, as `YYYY-MM-DD HH:MM:SS` in UTC. */
export function time(ns) {
  if (!ns) return "—";
  return new Date(Number(ns) / 1e6).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

/** An instant (ns) as RFC 3339, as the API takes moments, to the millisecond and never
 * after it (a JSON number holds nanoseconds since the epoch to within 256 ns). */
export function rfc3339(ns) {
  return new Date(Math.floor((Number(ns) - 256) / 1e6)).toISOString();
}

/** How long ago an instant (ns) was, roughly: "5 s ago", "3 min ago"... */
export function ago(ns, nowMs = Date.now()) {
  if (!ns) return "—";
  const seconds = Math.max(0, Math.round((nowMs - Number(ns) / 1e6) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** A file mode's permission bits as `rwxr-xr-x`. */
export function mode(m) {
  const bits = "rwxrwxrwx";
  let out = "";
  for (let i = 0; i < 9; i++) out += m & (1 << (8 - i)) ? bits[i] : "-";
  return out;
}
