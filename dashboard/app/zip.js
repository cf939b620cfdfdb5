// A zip archive of files, stored without compression: what a browser needs to hand back a
// folder as one download, with no library.

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 of bytes, as zip wants it. */
export function crc32(data) {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A time as MS-DOS keeps it in a zip (local time, 2 s steps, from 1980): [time, date]. */
export function dosTime(/** @type {Date} */ when) {
  if (when.getFullYear() < 1980) return [0, (1 << 5) | 1];
  const time = (when.getHours() << 11) | (when.getMinutes() << 5) | (when.getSeconds() >> 1);
  const date = ((when.getFullYear() - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate();
  return [time, date];
}

/** Names Windows keeps for devices, with any extension. */
const DEVICES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * A name as a zip entry: in each part, what Windows takes for a folder or a drive, or refuses
 * (`\ : < > " | ? *` and control characters, all legal here), becomes `_`, trailing dots
 * and spaces (which Windows drops) go, and a device's name (`CON`, `nul.txt`) gets a `_`
 * in front.
 * @param {string} name
 */
export function entryName(name) {
  return name
    .split("/")
    .map((part) => part.replace(/[\\:<>"|?*\x00-\x1f]/g, "_").replace(/[. ]+$/, "") || "_")
    .map((part) => (DEVICES.test(part) ? `_${part}` : part))
    .join("/");
}

/**
 * `name`, or, when an entry of that name (in any case: Windows does not tell them apart)
 * is in `taken`, the name with the first free ` (N)` before its extension.
 * @param {string} name
 * @param {Set<string>} taken
 */
function unique(name, taken) {
  const slash = name.lastIndexOf("/") + 1;
  const dot = name.lastIndexOf(".");
  const cut = dot > slash ? dot : name.length;
  let chosen = name;
  for (let n = 2; taken.has(chosen.toLowerCase()); n++) chosen = `${name.slice(0, cut)} (${n})${name.slice(cut)}`;
  taken.add(chosen.toLowerCase());
  return chosen;
}

/**
 * A zip of `files` (each `{ name, data, modified }`, names relative with `/` between
 * folders), named as `entryName` says; names that become one are told apart.
 * @param {{ name: string, data: Uint8Array, modified?: Date }[]} files
 * @returns {Blob}
 */
export function zip(files) {
  const encoder = new TextEncoder();
  /** @type {any[]} */
  const parts = [];
  /** @type {any[]} */
  const central = [];
  let offset = 0;
  const taken = new Set();
  for (const file of files) {
    const name = encoder.encode(unique(entryName(file.name), taken));
    const crc = crc32(file.data);
    const [time, date] = dosTime(file.modified ?? new Date());
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true); // names are UTF-8
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, file.data.length, true);
    local.setUint32(22, file.data.length, true);
    local.setUint16(26, name.length, true);
    parts.push(local.buffer, name, file.data);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x0800, true);
    entry.setUint16(12, time, true);
    entry.setUint16(14, date, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, file.data.length, true);
    entry.setUint32(24, file.data.length, true);
    entry.setUint16(28, name.length, true);
    entry.setUint32(42, offset, true);
    central.push(new Uint8Array(entry.buffer), name);
    offset += 30 + name.length + file.data.length;
  }
  const size = central.reduce((n, part) => n + part.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end.buffer], { type: "application/zip" });
}
