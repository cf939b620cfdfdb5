//! `strata org`, `strata key` and `strata token`.

use crate::CmdResult;
use crate::output::{Output, bytes, time};
use clap::Subcommand;
use strata_client::Client;
use strata_core::api::{CreateKey, CreateToken, KeyInfo, NewKey};

/// `strata org ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct OrgArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: OrgCommand,
}

/// `strata key ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct KeyArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: KeyCommand,
}

/// `strata token ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organization (admin keys only)
    Create {
        /// 1 to 63 characters of a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// List organizations with the bytes their volumes hold and their quotas (admin keys only)
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Show an organization: the bytes its volumes hold and its quota [default: the key's own]
    Get {
        /// The organization (another than the key's: admin keys only)
        name: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Encrypt an organization's new blocks, under store names of its own (admin keys only; the server needs --master-key-file)
    Encrypt {
        /// The organization
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Give an organization a new data key for its new blocks; older ones stay readable (admin keys only)
    RotateKey {
        /// The organization
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Rewrite an organization's blocks with its current data key (admin keys only)
    Reencrypt {
        /// The organization
        name: String,
        #[command(flatten)]
        out: Output,
    },
    /// Set an organization's quota of bytes, which its volumes may not pass together (admin keys only)
    Set {
        /// The organization
        name: String,
        /// The most bytes its volumes may hold together (e.g. 1T), or `none`; a fork counts whole
        #[arg(long, value_parser = super::volume::bound_of_size)]
        quota: super::volume::Bound,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Make an API key; prints its secret, which is shown only this once
    Create {
        /// Unique in its organization: 1 to 63 characters of a-z, 0-9, '.', '_' and '-'
        name: String,
        /// member (volumes of the organization), org-admin (also its keys) or admin (everything)
        #[arg(long, default_value = "member")]
        role: String,
        /// The organization of the key [default: the caller's; others: admin keys only]
        #[arg(long)]
        org: Option<String>,
        /// How long the key works, like 12h or 30d [default: until revoked]
        #[arg(long)]
        ttl: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// List the keys of an organization (never their secrets)
    List {
        /// The organization [default: the caller's; others: admin keys only]
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Revoke a key or token for good: it fails from its next request on
    Revoke {
        /// The key's id, as `strata key list` shows it
        id: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a token that can only mount or use the files of one volume folder; prints its secret
    Create {
        /// The one volume the token reaches
        #[arg(long)]
        volume: String,
        /// The folder of the volume the token sees as its root, like users/alice [default: all]
        #[arg(long, default_value = "")]
        subpath: String,
        /// The token may only read
        #[arg(long)]
        read_only: bool,
        /// How long the token works, like 90s, 1h or 7d [default: until revoked]
        #[arg(long)]
        ttl: Option<String>,
        /// A name unique in the organization [default: made up]
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        out: Output,
    },
}

fn describe(k: &KeyInfo) -> String {
    let mut text = format!("{} {} (org {}, role {})", k.name, k.id, k.org, k.role.as_str());
    if let Some(s) = &k.scope {
        let volume = s.volume.clone().unwrap_or_else(|| format!("{} (deleted)", s.volume_id));
        text += &format!(
            ", only {volume}:{}{}",
            s.subpath,
            if s.read_only { " read-only" } else { "" }
        );
    }
    if let Some(at) = k.expires_at {
        text += &format!(", expires {}", time(at));
    }
    text
}

/// Prints a new key: the secret alone on standard output (`$(strata token create ...)`), what
/// it is on standard error.
fn print_new(made: &NewKey, out: &Output) -> CmdResult {
    if !out.json {
        eprintln!("made {}; its secret is shown only now", describe(&made.key));
    }
    out.print(made, || made.secret.clone())
}

pub async fn org(cmd: OrgCommand, client: &Client) -> CmdResult {
    match cmd {
        OrgCommand::Create { name, out } => {
            let org = client.create_org(&name).await?;
            out.print(&org, || format!("created organization {}", org.name))
        }
        OrgCommand::List { out } => {
            let orgs = client.list_orgs().await?;
            out.print(&orgs, || {
                let mut text = format!("{:<32} {:>10} {:>10}  CREATED", "NAME", "USED", "QUOTA");
                for o in &orgs {
                    let quota = o.quota_bytes.map_or_else(|| "-".to_owned(), bytes);
                    text += &format!(
                        "\n{:<32} {:>10} {:>10}  {}",
                        o.name,
                        bytes(o.used_bytes),
                        quota,
                        time(o.created_at)
                    );
                }
                text
            })
        }
        OrgCommand::Get { name, out } => {
            let name = match name {
                Some(name) => name,
                None => client.whoami().await?.organization,
            };
            let org = client.get_org(&name).await?;
            out.print(&org, || describe_org(&org))
        }
        OrgCommand::Encrypt { name, out } => {
            let org = client.encrypt_org(&name).await?;
            out.print(&org, || describe_org(&org))
        }
        OrgCommand::RotateKey { name, out } => {
            let org = client.rotate_org_key(&name).await?;
            out.print(&org, || describe_org(&org))
        }
        OrgCommand::Reencrypt { name, out } => {
            let done = client.reencrypt_org(&name).await?;
            out.print(&done, || {
                format!(
                    "{} blocks rewritten with data key {}; {} were under it already",
                    done.rewritten, done.data_key, done.current
                )
            })
        }
        OrgCommand::Set { name, quota, out } => {
            let org = client.set_org_quota(&name, quota.0).await?;
            out.print(&org, || describe_org(&org))
        }
    }
}

fn describe_org(o: &strata_core::api::Org) -> String {
    let quota = o.quota_bytes.map_or_else(|| "-".to_owned(), bytes);
    let encrypted = o
        .data_key
        .map_or_else(|| "no".to_owned(), |k| format!("yes, data key {k}"));
    format!(
        "name:     {}\nused:     {} of {quota}\nencrypts: {encrypted}\ncreated:  {}",
        o.name,
        bytes(o.used_bytes),
        time(o.created_at)
    )
}

pub async fn key(cmd: KeyCommand, client: &Client) -> CmdResult {
    match cmd {
        KeyCommand::Create {
            name,
            role,
            org,
            ttl,
            out,
        } => {
            let made = client
                .create_key(&CreateKey {
                    name,
                    role: Some(role),
                    org,
                    ttl,
                })
                .await?;
            print_new(&made, &out)
        }
        KeyCommand::List { org, out } => {
            let keys = client.list_keys(org.as_deref()).await?;
            out.print(&keys, || {
                let mut text = format!(
                    "{:<24} {:<36} {:<10} {:<20} {:<20} SCOPE",
                    "NAME", "ID", "ROLE", "CREATED", "EXPIRES"
                );
                for k in &keys {
                    let scope = k.scope.as_ref().map_or_else(String::new, |s| {
                        let volume = s.volume.clone().unwrap_or_else(|| s.volume_id.to_string());
                        format!(
                            "{volume}:{}{}",
                            s.subpath,
                            if s.read_only { " (read-only)" } else { "" }
                        )
                    });
                    text += &format!(
                        "\n{:<24} {:<36} {:<10} {:<20} {:<20} {scope}",
                        k.name,
                        k.id,
                        k.role.as_str(),
                        time(k.created_at),
                        k.expires_at.map_or_else(|| "never".to_owned(), time)
                    );
                }
                text
            })
        }
        KeyCommand::Revoke { id, out } => {
            client.revoke_key(&id).await?;
            out.print(&serde_json::json!({ "revoked": id }), || format!("revoked key {id}"))
        }
    }
}

pub async fn token(cmd: TokenCommand, client: &Client) -> CmdResult {
    match cmd {
        TokenCommand::Create {
            volume,
            subpath,
            read_only,
            ttl,
            name,
            out,
        } => {
            let request = CreateToken {
                volume,
                subpath,
                read_only,
                ttl,
                name,
            };
            print_new(&client.create_token(&request).await?, &out)
        }
    }
}
