//! The OCI bundle of a sandbox: a root file system of its own and the `config.json` the
//! runtime runs it from.
//!
//! Isolation by construction: the root holds only what is listed here (the image's
//! folders, read-only; an `/etc` strata writes; a private `/root` and `/tmp`; the volumes),
//! so nothing of the host that is not named here is there to find. New mount, PID, IPC,
//! UTS and network namespaces; no capabilities; `no_new_privs`; a seccomp filter against
//! the calls that reach the kernel's namespace and module machinery; cgroup limits; an
//! environment of `HOME`, `PATH` and what the caller asked for.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use strata_core::api::{SandboxLimits, SandboxNetwork};
use strata_core::{Error, Result};

/// The home folder inside every sandbox.
pub const HOME: &str = "/root";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The statically linked init (tini) every sandbox runs as its PID 1: it reaps orphans, and
/// the sandbox stops when it ends.
pub const INIT_BINARY: &str = "/usr/bin/tini-static";
/// The host's links from a program's common name to the one installed (links only).
const ALTERNATIVES: &str = "/etc/alternatives";
/// The host's public certificate authorities (certificates only: never `/etc/ssl/private`).
const CERTIFICATES: &str = "/etc/ssl/certs";
/// Top-level names the sandbox has its own version of: never taken from an image.
const OWN: [&str; 8] = ["proc", "dev", "sys", "tmp", "root", "run", "init", "etc"];

/// The read-only base of every sandbox's root: top-level folders of one host folder.
#[derive(Debug, Clone)]
pub struct Image {
    /// The folder the entries come from.
    dir: PathBuf,
    /// Top-level folders bound read-only, and symbolic links copied.
    entries: Vec<Entry>,
    /// Whether the image brings its own `/etc` (else strata writes a minimal one).
    own_etc: bool,
}

#[derive(Debug, Clone)]
enum Entry {
    Folder(OsString),
    Link(OsString, PathBuf),
}

impl Image {
    /// The default: the host's `/usr` (and the `/bin`, `/sbin` and `/lib*` links or
    /// folders beside it) read-only, with an `/etc` of strata's. Never the host's `/`.
    pub fn host_usr() -> Image {
        let names = ["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
        let entries = names
            .iter()
            .filter_map(|name| entry(Path::new("/"), OsString::from(name)))
            .collect();
        Image {
            dir: PathBuf::from("/"),
            entries,
            own_etc: false,
        }
    }

    /// A root file system the operator made (e.g. with `debootstrap`): each of its
    /// top-level folders, read-only, its `/etc` included.
    pub fn folder(dir: &Path) -> Result<Image> {
        let list = std::fs::read_dir(dir)
            .map_err(|e| Error::invalid("sandbox-image", format!("cannot read {}: {e}", dir.display())))?;
        let mut entries: Vec<Entry> = list
            .flatten()
            .map(|e| e.file_name())
            .filter(|name| !OWN.iter().any(|own| name == *own) || name == "etc")
            .filter_map(|name| entry(dir, name))
            .collect();
        entries.sort_by(|a, b| a.name().cmp(b.name()));
        if !dir.join("usr/bin").is_dir() {
            return Err(Error::invalid(
                "sandbox-image",
                format!("{} has no usr/bin: not a root file system", dir.display()),
            ));
        }
        Ok(Image {
            dir: dir.to_owned(),
            entries,
            own_etc: true,
        })
    }

    /// The image folder a mount path would fall in: no volume may cover what the
    /// sandbox's programs need, nor `/init` and `/etc`.
    pub fn reserved(&self, mount_path: &str) -> Option<String> {
        let under = |top: &str| mount_path == format!("/{top}") || mount_path.starts_with(&format!("/{top}/"));
        let names = self.entries.iter().filter_map(|e| e.name().to_str());
        names
            .chain(["init", "etc"])
            .find(|name| under(name))
            .map(|name| format!("/{name}"))
    }
}

impl Entry {
    fn name(&self) -> &OsString {
        match self {
            Entry::Folder(name) | Entry::Link(name, _) => name,
        }
    }
}

fn entry(dir: &Path, name: OsString) -> Option<Entry> {
    let path = dir.join(&name);
    match std::fs::read_link(&path) {
        Ok(target) => Some(Entry::Link(name, target)),
        Err(_) if path.is_dir() => Some(Entry::Folder(name)),
        Err(_) => None,
    }
}

/// One sandbox's bundle.
pub struct Spec<'a> {
    pub hostname: &'a str,
    pub image: &'a Image,
    /// (host folder, path inside, read-only) per volume.
    pub volumes: &'a [(PathBuf, String, bool)],
    pub env: &'a BTreeMap<String, String>,
    pub limits: SandboxLimits,
    /// The cgroup the runtime puts the sandbox in.
    pub cgroup: &'a str,
    pub network: SandboxNetwork,
}

/// Writes `folder/rootfs` (the root's skeleton: links, `/etc`, the mount points) and
/// `folder/config.json`.
pub fn write(folder: &Path, spec: &Spec) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| Error::internal(format!("cannot prepare {}: {e}", what.display()));
    let rootfs = folder.join("rootfs");
    std::fs::create_dir_all(&rootfs).map_err(|e| io(&rootfs, e))?;
    for e in &spec.image.entries {
        let path = rootfs.join(e.name());
        match e {
            Entry::Link(_, target) => std::os::unix::fs::symlink(target, &path),
            Entry::Folder(_) => std::fs::create_dir_all(&path),
        }
        .map_err(|e| io(&path, e))?;
    }
    for dir in ["proc", "dev", "sys", "tmp", "root", "etc"] {
        std::fs::create_dir_all(rootfs.join(dir)).map_err(|e| io(&rootfs.join(dir), e))?;
    }
    std::fs::write(rootfs.join("init"), b"").map_err(|e| io(&rootfs.join("init"), e))?;
    if !spec.image.own_etc {
        for (name, text) in etc_files(spec.hostname, spec.network) {
            let path = rootfs.join("etc").join(name);
            std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        }
    }
    let config = serde_json::to_vec_pretty(&config(spec)).map_err(|e| Error::internal(e.to_string()))?;
    let path = folder.join("config.json");
    std::fs::write(&path, config).map_err(|e| io(&path, e))
}

/// The `/etc` of the default image: enough for a shell, `id`, `hostname` and name lookups
/// of the sandbox itself.
fn etc_files(hostname: &str, network: SandboxNetwork) -> [(&'static str, String); 6] {
    // Name servers the host uses, for a sandbox that reaches them.
    let resolvers = match network {
        SandboxNetwork::Outbound => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        SandboxNetwork::None => String::new(),
    };
    [
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".into(),
        ),
        ("group", "root:x:0:\nnogroup:x:65534:\n".into()),
        ("hostname", format!("{hostname}\n")),
        (
            "hosts",
            format!("127.0.0.1 localhost\n127.0.1.1 {hostname}\n::1 localhost\n"),
        ),
        ("nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n".into()),
        ("resolv.conf", resolvers),
    ]
}

/// The runtime's configuration (OCI runtime spec 1.0).
fn config(spec: &Spec) -> Value {
    let mib = |n: u64| n.saturating_mul(1 << 20);
    let mut env: Vec<String> = vec![format!("HOME={HOME}"), format!("PATH={PATH}")];
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=64k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={}", mib(spec.limits.disk_mib))]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", "ro"]}),
    ];
    for e in &spec.image.entries {
        if let Entry::Folder(name) = e {
            let path = Path::new("/").join(name);
            mounts.push(bind(&spec.image.dir.join(name), &path.to_string_lossy(), true));
        }
    }
    mounts.push(bind(Path::new(INIT_BINARY), "/init", true));
    // Debian reaches many of the programs in `/usr` (awk, which, pager) through these links,
    // and finds the public certificate authorities here.
    for shared in [ALTERNATIVES, CERTIFICATES] {
        if !spec.image.own_etc && Path::new(shared).is_dir() {
            mounts.push(bind(Path::new(shared), shared, true));
        }
    }
    for (dir, mode) in [("/tmp", "1777"), (HOME, "700")] {
        mounts.push(json!({"destination": dir, "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", format!("mode={mode}"), format!("size={}", mib(spec.limits.disk_mib))]}));
    }
    for (source, path, read_only) in spec.volumes {
        mounts.push(bind(source, path, *read_only));
    }
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["/init", "--", "sleep", "infinity"],
            "env": env,
            "cwd": HOME,
            "capabilities": {"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 4096}],
            "noNewPrivileges": true,
            // The host's OOM killer takes a sandbox's processes before anything else.
            "oomScoreAdj": 1000
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": spec.hostname,
        "mounts": mounts,
        "linux": {
            "cgroupsPath": spec.cgroup,
            "resources": {
                "devices": [{"allow": false, "access": "rwm"}],
                "memory": {"limit": mib(spec.limits.memory_mib)},
                "pids": {"limit": spec.limits.processes},
                "cpu": {"quota": spec.limits.millicpus * 100, "period": 100_000}
            },
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "rootfsPropagation": "rprivate",
            "seccomp": seccomp(),
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

/// A read-only or writable bind of a host folder that takes none of the host's mounts
/// below it along, and sees none made later (`rprivate`).
fn bind(source: &Path, destination: &str, read_only: bool) -> Value {
    let mut options = vec!["bind", "rprivate", "nosuid", "nodev"];
    if read_only {
        options.push("ro");
    }
    json!({"destination": destination, "type": "bind", "source": source, "options": options})
}

/// The seccomp filter: everything is allowed but the calls that make namespaces, mount,
/// load kernel code or reach other processes' memory; with no capabilities most of them
/// fail anyway, and this closes the ones an unprivileged process may still make (a user
/// namespace would hand it capabilities there).
fn seccomp() -> Value {
    const DENIED: [&str; 31] = [
        "mount",
        "umount2",
        "pivot_root",
        "unshare",
        "setns",
        "fsopen",
        "fsmount",
        "fsconfig",
        "move_mount",
        "open_tree",
        "mount_setattr",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "bpf",
        "perf_event_open",
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "open_by_handle_at",
        "reboot",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "syslog",
    ];
    const CLONE_NEWUSER: u64 = 0x1000_0000;
    let architectures: &[&str] = if cfg!(target_arch = "x86_64") {
        &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    } else if cfg!(target_arch = "aarch64") {
        &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    } else {
        &[]
    };
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": architectures,
        "syscalls": [
            {"names": DENIED, "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM},
            // clone3 passes its flags in memory a filter cannot read: callers fall back to clone.
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::ENOSYS},
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": libc::EPERM,
             "args": [{"index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}]}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_image_is_the_hosts_usr_and_never_its_root() {
        let image = Image::host_usr();
        assert!(image.entries.iter().any(|e| e.name() == "usr"));
        for name in ["etc", "var", "home", "root", "tmp", "opt", "srv"] {
            assert!(!image.entries.iter().any(|e| e.name() == name), "{name}");
        }
        assert_eq!(image.reserved("/usr/local/x").as_deref(), Some("/usr"));
        assert_eq!(image.reserved("/init").as_deref(), Some("/init"));
        assert_eq!(image.reserved("/etc/x").as_deref(), Some("/etc"));
        assert_eq!(image.reserved("/usrdata"), None);
        assert_eq!(image.reserved("/home/w"), None);
    }

    #[test]
    fn a_bundle_names_only_what_it_gives() {
        let dir = tempfile::tempdir().unwrap();
        let image = Image::host_usr();
        let env = BTreeMap::from([("LANG".to_string(), "C.UTF-8".to_string())]);
        let volumes = [(PathBuf::from("/srv/m/0"), "/home/w".to_string(), false)];
        let spec = Spec {
            hostname: "sandbox-1",
            image: &image,
            volumes: &volumes,
            env: &env,
            limits: strata_core::sandboxes::DEFAULT_LIMITS,
            cgroup: "/strata/x",
            network: SandboxNetwork::None,
        };
        write(dir.path(), &spec).unwrap();
        let config: Value = serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
        assert_eq!(
            config["process"]["env"],
            json!(["HOME=/root", format!("PATH={PATH}"), "LANG=C.UTF-8"])
        );
        assert_eq!(config["process"]["capabilities"]["bounding"], json!([]));
        assert_eq!(config["root"]["readonly"], json!(true));
        let sources: Vec<&str> = config["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["type"] == "bind")
            .map(|m| m["source"].as_str().unwrap())
            .collect();
        assert!(sources.contains(&"/usr") && sources.contains(&"/srv/m/0"));
        assert!(!sources.contains(&"/"), "{sources:?}");
        let namespaces = config["linux"]["namespaces"].to_string();
        for ns in ["pid", "network", "ipc", "uts", "mount"] {
            assert!(namespaces.contains(ns), "{ns}");
        }
        assert_eq!(config["linux"]["resources"]["pids"]["limit"], json!(256));
        let etc = std::fs::read_to_string(dir.path().join("rootfs/etc/hosts")).unwrap();
        assert!(etc.contains("sandbox-1"));
    }
}
