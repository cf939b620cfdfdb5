use crate::CmdResult;
use crate::output::{Output, bytes, time};
use clap::Subcommand;
use strata_client::Client;
use strata_core::api::Volume;

/// `strata volume ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct VolumeArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: VolumeCommand,
}

#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create {
        /// 1 to 63 characters of a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Show a volume by name or id
    Get {
        /// The volume: its name or id
        volume: String,
        /// Create it if it does not exist
        #[arg(long)]
        create: bool,
        #[command(flatten)]
        out: Output,
    },
    /// List volumes
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Give a volume a new name (its snapshots follow: OLD@s becomes NEW@s)
    Rename {
        /// The volume: its name or id
        volume: String,
        /// Its new name
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Delete a volume, its snapshots and everything in them (refused while mounted)
    Delete {
        /// The volume: its name or id
        volume: String,
        /// Delete even while mounted: its mounts fail from then on
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        out: Output,
    },
}

fn describe(v: &Volume) -> String {
    format!(
        "name:     {}\nid:       {}\nstate:    {:?}\nused:     {}\nfiles:    {}\ncreated:  {}\nupdated:  {}",
        v.name,
        v.id,
        v.state,
        bytes(v.used_bytes),
        v.file_count,
        time(v.created_at),
        time(v.updated_at)
    )
}

pub async fn run(cmd: VolumeCommand, client: &Client) -> CmdResult {
    match cmd {
        VolumeCommand::Create { name, out } => {
            let v = client.create_volume(&name, false).await?;
            out.print(&v, || describe(&v))
        }
        VolumeCommand::Get { volume, create, out } => {
            let v = if create {
                client.create_volume(&volume, true).await?
            } else {
                client.get_volume(&volume).await?
            };
            out.print(&v, || describe(&v))
        }
        VolumeCommand::List { out } => {
            let volumes = client.list_volumes().await?;
            out.print(&volumes, || {
                let mut text = format!("{:<24} {:<36} {:>10} {:>8}  CREATED", "NAME", "ID", "USED", "FILES");
                for v in &volumes {
                    text += &format!(
                        "\n{:<24} {:<36} {:>10} {:>8}  {}",
                        v.name,
                        v.id,
                        bytes(v.used_bytes),
                        v.file_count,
                        time(v.created_at)
                    );
                }
                text
            })
        }
        VolumeCommand::Rename { volume, name, out } => {
            let v = client.rename_volume(&volume, &name).await?;
            out.print(&v, || describe(&v))
        }
        VolumeCommand::Delete { volume, force, out } => {
            client.delete_volume(&volume, force).await?;
            out.print(&serde_json::json!({ "deleted": volume }), || {
                format!("deleted volume {volume}")
            })
        }
    }
}
