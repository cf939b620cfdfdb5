use crate::CmdResult;
use crate::output::Output;
use clap::Args;
use strata_client::Client;
use strata_client::config::Login;
use strata_core::Error;

#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub remote: crate::remote::Remote,
    #[command(flatten)]
    pub out: Output,
}

/// Checks the endpoint and key against the server, then saves them.
pub async fn run(args: LoginArgs) -> CmdResult {
    let (Some(endpoint), Some(token)) = (args.remote.endpoint, args.remote.token) else {
        return Err(Error::invalid("endpoint", "strata login needs --endpoint URL and --token KEY").into());
    };
    let client = Client::new(&endpoint, Some(token.clone()))?;
    client.list_volumes().await?;
    // Contexts saved before stay.
    let path = Login {
        endpoint: Some(endpoint.clone()),
        token: Some(token),
        ..Login::load()
    }
    .save()?;
    args.out
        .print(&serde_json::json!({ "endpoint": endpoint, "config": path }), || {
            format!("logged in to {endpoint} (saved in {})", path.display())
        })
}
