//! `strata ctx`: named volumes to work on, kept in the login file.

use crate::CmdResult;
use crate::output::Output;
use clap::Subcommand;
use strata_client::Client;
use strata_client::config::{Context, Login};
use strata_core::names::{VolumeName, VolumeRef};
use strata_core::{Error, ErrorKind};

/// `strata ctx ...` with the options every one of its subcommands takes.
#[derive(clap::Args)]
pub struct CtxArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(subcommand)]
    pub command: CtxCommand,
}

#[derive(Subcommand)]
pub enum CtxCommand {
    /// Save a context: a volume, on this server (or the one --endpoint/--token name)
    Create {
        /// The context's name (the rules of volume names)
        name: String,
        /// The volume it works on (name or id)
        #[arg(long)]
        volume: String,
        #[command(flatten)]
        out: Output,
    },
    /// List contexts; `*` marks the current one
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Make NAME the current context: later commands use its server and key
    Use {
        /// The context's name
        name: String,
    },
    /// Forget a context (its volume stays)
    Delete {
        /// The context's name
        name: String,
    },
    /// Fork the current context's volume into a new volume NEW, with a context NEW for it
    Fork {
        /// The name of the new volume and context
        new: String,
        #[command(flatten)]
        out: Output,
    },
}

fn check_name(name: &str) -> Result<(), Error> {
    VolumeName::parse(name).map_err(|e| Error::invalid("context", e.message.replace("volume name", "context name")))?;
    Ok(())
}

fn missing(name: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("context {name} not found (see strata ctx list)"),
    )
    .with_field("context")
}

pub async fn run(args: CtxArgs) -> CmdResult {
    let (endpoint, token) = (args.remote.endpoint, args.remote.token);
    let mut login = Login::load();
    match args.command {
        CtxCommand::Create { name, volume, out } => {
            check_name(&name)?;
            VolumeRef::parse(&volume)?;
            if login.contexts.contains_key(&name) {
                return Err(
                    Error::new(ErrorKind::AlreadyExists, format!("context {name} already exists"))
                        .with_field("context")
                        .into(),
                );
            }
            let context = Context {
                volume,
                endpoint,
                token,
            };
            login.contexts.insert(name.clone(), context.clone());
            login.save()?;
            out.print(&shown(&name, &context), || {
                format!("context {name} saved: strata ctx use {name}")
            })
        }
        CtxCommand::List { out } => {
            // Keys stay out of the listing.
            let listed: Vec<_> = login
                .contexts
                .iter()
                .map(|(name, c)| {
                    serde_json::json!({
                        "name": name,
                        "volume": c.volume,
                        "endpoint": c.endpoint,
                        "current": login.current_context.as_ref() == Some(name),
                    })
                })
                .collect();
            out.print(&listed, || {
                let mut text = format!("  {:<24} {:<24} ENDPOINT", "NAME", "VOLUME");
                for (name, c) in &login.contexts {
                    let mark = if login.current_context.as_ref() == Some(name) {
                        '*'
                    } else {
                        ' '
                    };
                    let endpoint = c.endpoint.as_deref().unwrap_or("(login)");
                    text += &format!("\n{mark} {name:<24} {:<24} {endpoint}", c.volume);
                }
                text
            })
        }
        CtxCommand::Use { name } => {
            if !login.contexts.contains_key(&name) {
                return Err(missing(&name).into());
            }
            login.current_context = Some(name.clone());
            login.save()?;
            crate::output::say(&format!("now in context {name}"))?;
            Ok(())
        }
        CtxCommand::Delete { name } => {
            login.contexts.remove(&name).ok_or_else(|| missing(&name))?;
            if login.current_context.as_ref() == Some(&name) {
                login.current_context = None;
            }
            login.save()?;
            Ok(())
        }
        CtxCommand::Fork { new, out } => {
            check_name(&new)?;
            let current = login
                .current()
                .cloned()
                .ok_or_else(|| Error::invalid("context", "no current context: strata ctx use NAME first"))?;
            if login.contexts.contains_key(&new) {
                return Err(
                    Error::new(ErrorKind::AlreadyExists, format!("context {new} already exists"))
                        .with_field("context")
                        .into(),
                );
            }
            // The fork lives where its source does.
            let client = Client::from_env(endpoint, token)?;
            let volume = client.fork(&current.volume, &new).await?;
            let message = format!(
                "forked {} into {new}, with a context {new}: strata ctx use {new}",
                current.volume
            );
            let context = Context {
                volume: volume.name.clone(),
                ..current
            };
            login.contexts.insert(new.clone(), context.clone());
            login.save()?;
            out.print(&shown(&new, &context), || message)
        }
    }
}

/// A context as printed: its key stays out.
fn shown(name: &str, c: &Context) -> serde_json::Value {
    serde_json::json!({ "name": name, "volume": c.volume, "endpoint": c.endpoint })
}
