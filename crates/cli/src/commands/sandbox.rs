//! `strata sandbox`: process trees on the server's machine with volumes mounted in them.

use crate::output::{Output, time};
use crate::{CmdResult, Failure};
use clap::Subcommand;
use std::io::{Read, Write};
use std::path::PathBuf;
use strata_client::Client;
use strata_core::Error;
use strata_core::api::{CreateSandbox, Sandbox, SandboxLimitsSpec, SandboxNetwork, SandboxVolumeSpec};

/// `strata sandbox ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Start a sandbox with volumes mounted; returns once every volume is
    Create {
        /// VOLUME[:SUBPATH]:MOUNT_PATH, e.g. work:/home/w or tenants:users/alice:/data (repeatable)
        #[arg(long = "volume", value_name = "VOLUME[:SUBPATH]:MOUNT_PATH")]
        volumes: Vec<String>,
        /// Like --volume, mounted read-only (repeatable)
        #[arg(long = "read-only-volume", value_name = "VOLUME[:SUBPATH]:MOUNT_PATH")]
        read_only_volumes: Vec<String>,
        /// NAME=VALUE in the environment of every process inside (repeatable)
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Memory of all its processes, MiB [default: 512]
        #[arg(long, value_name = "MIB")]
        memory: Option<u64>,
        /// Most processes at once [default: 256]
        #[arg(long)]
        processes: Option<u64>,
        /// CPU time, in cores (e.g. 0.5) [default: 1]
        #[arg(long)]
        cpus: Option<f64>,
        /// Size of each writable folder (/root, /tmp), MiB [default: 256]
        #[arg(long, value_name = "MIB")]
        disk: Option<u64>,
        /// none: a loopback of its own only; outbound: also connections out through the host's network (never to its loopback)
        #[arg(long, value_enum, default_value = "none")]
        network: Network,
        #[command(flatten)]
        out: Output,
    },
    /// List sandboxes
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Show a sandbox
    Get {
        /// The sandbox's id
        id: String,
        #[command(flatten)]
        out: Output,
    },
    /// Run `sh -c COMMAND` in a sandbox; exits with the command's exit code
    Exec {
        /// The sandbox's id
        id: String,
        /// The shell command
        command: String,
        /// Seconds before the command is killed (1 to 3600)
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        #[command(flatten)]
        out: Output,
    },
    /// Copy a local file (`-` for stdin) to a path inside a sandbox
    Upload {
        /// The sandbox's id
        id: String,
        /// The local file, or `-`
        local: PathBuf,
        /// Absolute path inside the sandbox (missing folders are made)
        path: String,
    },
    /// Copy a file from inside a sandbox to a local file (`-` for stdout)
    Download {
        /// The sandbox's id
        id: String,
        /// Absolute path inside the sandbox
        path: String,
        /// The local file, or `-`
        local: PathBuf,
    },
    /// Kill a sandbox's processes and unmount its volumes (their data stays)
    Delete {
        /// The sandbox's id
        id: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Network {
    None,
    Outbound,
}

/// Parses `VOLUME[:SUBPATH]:MOUNT_PATH`: the mount path is the part from the first `:/`.
pub fn parse_volume_arg(arg: &str, read_only: bool) -> Result<SandboxVolumeSpec, Error> {
    let bad = || {
        Error::invalid(
            "volume",
            format!("invalid --volume {arg:?}: expected VOLUME[:SUBPATH]:MOUNT_PATH with an absolute MOUNT_PATH"),
        )
    };
    let (volume, rest) = arg.split_once(':').ok_or_else(bad)?;
    let (subpath, mount_path) = if rest.starts_with('/') {
        (None, rest)
    } else {
        let (subpath, _) = rest.split_once(":/").ok_or_else(bad)?;
        (Some(subpath), &rest[subpath.len() + 1..])
    };
    if volume.is_empty() {
        return Err(bad());
    }
    Ok(SandboxVolumeSpec {
        volume_id: volume.to_owned(),
        mount_path: mount_path.to_owned(),
        subpath: subpath.map(str::to_owned),
        read_only,
    })
}

fn describe(s: &Sandbox) -> String {
    let mut text = format!(
        "id:       {}\nstate:    {:?}\ncreated:  {}",
        s.id,
        s.state,
        time(s.created_at)
    );
    let l = &s.limits;
    text += &format!(
        "\nlimits:   {} MiB memory, {} processes, {} CPUs, {} MiB each for /root and /tmp\nnetwork:  {}",
        l.memory_mib,
        l.processes,
        l.millicpus as f64 / 1000.0,
        l.disk_mib,
        format!("{:?}", s.network).to_lowercase()
    );
    for v in &s.volumes {
        text += &format!(
            "\nvolume:   {}{} at {}{}",
            v.volume,
            v.subpath.as_deref().map(|p| format!(":{p}")).unwrap_or_default(),
            v.mount_path,
            if v.read_only { " (read-only)" } else { "" }
        );
    }
    text
}

pub async fn run(cmd: SandboxCommand, client: &Client) -> CmdResult {
    match cmd {
        SandboxCommand::Create {
            volumes,
            read_only_volumes,
            env,
            memory,
            processes,
            cpus,
            disk,
            network,
            out,
        } => {
            let mut req = CreateSandbox::default();
            for arg in &volumes {
                req.volumes.push(parse_volume_arg(arg, false)?);
            }
            for arg in &read_only_volumes {
                req.volumes.push(parse_volume_arg(arg, true)?);
            }
            for arg in &env {
                let (name, value) = arg
                    .split_once('=')
                    .ok_or_else(|| Error::invalid("env", format!("invalid --env {arg:?}: expected NAME=VALUE")))?;
                req.env.insert(name.to_owned(), value.to_owned());
            }
            let millicpus = match cpus {
                Some(c) if c.is_finite() && c > 0.0 && c <= 1e6 => Some((c * 1000.0).round() as u64),
                Some(c) => {
                    return Err(
                        Error::invalid("cpus", format!("invalid --cpus {c}: a number of cores, e.g. 0.5")).into(),
                    );
                }
                None => None,
            };
            req.limits = SandboxLimitsSpec {
                memory_mib: memory,
                processes,
                millicpus,
                disk_mib: disk,
            };
            req.network = match network {
                Network::None => SandboxNetwork::None,
                Network::Outbound => SandboxNetwork::Outbound,
            };
            let sandbox = client.create_sandbox(&req).await?;
            out.print(&sandbox, || sandbox.id.to_string())
        }
        SandboxCommand::List { out } => {
            let all = client.list_sandboxes().await?;
            out.print(&all, || {
                let mut text = format!("{:<36} {:<8} {:<20}  VOLUMES", "ID", "STATE", "CREATED");
                for s in &all {
                    let volumes: Vec<String> = s
                        .volumes
                        .iter()
                        .map(|v| format!("{}:{}", v.volume, v.mount_path))
                        .collect();
                    text += &format!(
                        "\n{:<36} {:<8} {:<20}  {}",
                        s.id,
                        format!("{:?}", s.state).to_lowercase(),
                        time(s.created_at),
                        volumes.join(" ")
                    );
                }
                text
            })
        }
        SandboxCommand::Get { id, out } => {
            let sandbox = client.get_sandbox(&id).await?;
            out.print(&sandbox, || describe(&sandbox))
        }
        SandboxCommand::Exec {
            id,
            command,
            timeout,
            out,
        } => {
            let result = client.exec(&id, &command, Some(timeout)).await?;
            if out.json {
                out.print(&result, String::new)?;
            } else {
                // A closed pipe (`| head`) is no failure worth a message.
                let _ = std::io::stdout().write_all(result.stdout.as_bytes());
                let _ = std::io::stderr().write_all(result.stderr.as_bytes());
                if result.truncated {
                    eprintln!(
                        "strata: the command's output was cut at {} MiB: write it to a file and download that instead",
                        strata_core::sandboxes::EXEC_OUTPUT_MAX >> 20
                    );
                }
                if result.timed_out {
                    eprintln!("strata: the command was killed after --timeout {timeout} seconds");
                }
            }
            if result.exit_code == 0 {
                Ok(())
            } else {
                Err(Failure::exit_quietly(result.exit_code))
            }
        }
        SandboxCommand::Upload { id, local, path } => {
            let mut data = Vec::new();
            if local.as_os_str() == "-" {
                std::io::stdin().read_to_end(&mut data)?;
            } else {
                data = std::fs::read(&local).map_err(|e| Failure::local(&local, e))?;
            }
            client.upload_to_sandbox(&id, &path, data).await?;
            Ok(())
        }
        SandboxCommand::Download { id, path, local } => {
            let data = client.download_from_sandbox(&id, &path).await?;
            if local.as_os_str() == "-" {
                std::io::stdout().write_all(&data)?;
                Ok(())
            } else {
                std::fs::write(&local, &data).map_err(|e| Failure::local(&local, e))
            }
        }
        SandboxCommand::Delete { id } => {
            client.delete_sandbox(&id).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_volume_arg;

    #[test]
    fn volume_args() {
        let whole = parse_volume_arg("work:/home/w", false).unwrap();
        assert_eq!(
            (whole.volume_id.as_str(), whole.subpath, whole.mount_path.as_str()),
            ("work", None, "/home/w")
        );
        let sub = parse_volume_arg("tenants:users/alice:/data", true).unwrap();
        assert_eq!(sub.subpath.as_deref(), Some("users/alice"));
        assert_eq!(sub.mount_path, "/data");
        assert!(sub.read_only);
        for bad in ["work", "work:home/w", ":/x", "t:users/alice:data"] {
            assert_eq!(
                parse_volume_arg(bad, false).unwrap_err().field.as_deref(),
                Some("volume"),
                "{bad}"
            );
        }
    }
}
