//! `--endpoint` and `--token`: options of the commands that talk to a server, and only of
//! those (`strata server`, `umount` and `completions` do not take them).

use strata_client::Client;

#[derive(clap::Args, Debug, Clone)]
pub struct Remote {
    /// Server URL, or several separated by commas [default: from `strata login`, else the local server's address]
    #[arg(long, global = true, env = "STRATA_ENDPOINT")]
    pub endpoint: Option<String>,
    /// API key [default: from `strata login`, else the local server's admin.token]
    #[arg(long, global = true, env = "STRATA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

impl Remote {
    /// A client configured from these options, the environment, the login file and the local
    /// server.
    pub fn client(&self) -> strata_core::Result<Client> {
        Client::from_env(self.endpoint.clone(), self.token.clone())
    }
}
