//! Where the client finds its server and its key, in order:
//! flags or `STRATA_ENDPOINT`/`STRATA_TOKEN`, then the file written by `strata login`,
//! then the local server (the address it wrote to its data folder, and its `admin.token`).
//!
//! A key the user did not give on this command line goes only where it belongs: a saved
//! login key to the endpoint it was saved with, the local admin key to the local server on
//! a loopback address. Any other endpoint gets no key at all.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:7878";

/// The server's data folder: `$STRATA_DATA_DIR`, else the user's data folder.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("strata")
}

/// Certificates (PEM) to trust besides the system's, for a server whose certificate a
/// private CA signed: the file `$STRATA_CA_FILE` names.
pub fn extra_roots() -> strata_core::Result<Vec<reqwest::Certificate>> {
    let Some(path) = std::env::var_os("STRATA_CA_FILE").filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    let path = PathBuf::from(path);
    let bad = |why: String| strata_core::Error::invalid("STRATA_CA_FILE", format!("{}: {why}", path.display()));
    let pem = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(bad("holds no certificate".into()));
    }
    Ok(certs)
}

/// The file `strata login` writes.
pub fn login_file() -> PathBuf {
    if let Some(dir) = std::env::var_os("STRATA_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("config.json");
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("strata")
        .join("config.json")
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Login {
    pub endpoint: Option<String>,
    pub token: Option<String>,
    /// Named volumes to work on, each maybe on its own server (`strata ctx`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub contexts: std::collections::BTreeMap<String, Context>,
    /// The context `strata ctx use` chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_context: Option<String>,
}

/// A volume to work on, and where: the login's server unless the context names its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub volume: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl Login {
    pub fn load() -> Login {
        std::fs::read(login_file())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn current(&self) -> Option<&Context> {
        self.current_context.as_ref().and_then(|name| self.contexts.get(name))
    }

    /// The saved endpoint and key: the current context's when it names a server or a key,
    /// else the login's; and what chose the endpoint, for messages.
    fn saved(&self) -> (Option<String>, Option<String>, String) {
        let file = login_file();
        match (self.current(), &self.current_context) {
            (Some(c), Some(name)) if c.endpoint.is_some() || c.token.is_some() => {
                let origin = match &c.endpoint {
                    Some(_) => format!("the context {name} in {}", file.display()),
                    None => format!("the login in {} (context {name})", file.display()),
                };
                (
                    c.endpoint.clone().or_else(|| self.endpoint.clone()),
                    c.token.clone(),
                    origin,
                )
            }
            _ => (
                self.endpoint.clone(),
                self.token.clone(),
                format!("the login in {}", file.display()),
            ),
        }
    }

    /// Saves to the login file, readable by its owner only.
    pub fn save(&self) -> std::io::Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = login_file();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(&serde_json::to_vec_pretty(self)?)?;
        Ok(path)
    }
}

/// The local server's URL: what it wrote to its data folder, or the default.
fn local_endpoint() -> String {
    std::fs::read_to_string(default_data_dir().join(strata_core::ENDPOINT_FILE))
        .map(|text| text.trim().to_owned())
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
}

fn same_endpoint(a: &str, b: &str) -> bool {
    a.trim().trim_end_matches('/') == b.trim().trim_end_matches('/')
}

fn is_loopback(endpoint: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(endpoint.trim()) else {
        return false;
    };
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The endpoint and key to use, given what the command line said.
pub fn resolve(endpoint: Option<String>, token: Option<String>) -> Resolved {
    let (saved_endpoint, saved_token, saved_origin) = Login::load().saved();
    let local = local_endpoint();
    let (endpoint, origin) = match (endpoint, &saved_endpoint) {
        (Some(given), _) => (given, None),
        (None, Some(saved)) => (saved.clone(), Some(saved_origin)),
        (None, None) => (
            local.clone(),
            Some(format!(
                "the local server's {}, or the default",
                default_data_dir().join(strata_core::ENDPOINT_FILE).display()
            )),
        ),
    };
    if token.is_some() {
        return Resolved {
            endpoint,
            token,
            origin,
        };
    }
    let saved = saved_token.filter(|_| {
        saved_endpoint
            .as_deref()
            .is_some_and(|saved| same_endpoint(saved, &endpoint))
    });
    let token = saved.or_else(|| {
        if !(same_endpoint(&endpoint, &local) && is_loopback(&endpoint)) {
            return None;
        }
        let text = std::fs::read_to_string(default_data_dir().join("admin.token")).ok()?;
        Some(text.trim().to_owned())
    });
    Resolved {
        endpoint,
        token,
        origin,
    }
}

/// The endpoint and key a command uses, and what chose the endpoint.
pub struct Resolved {
    pub endpoint: String,
    pub token: Option<String>,
    /// Where the endpoint came from when the command line did not say (a context of the
    /// login file, the local server), named when it cannot be reached.
    pub origin: Option<String>,
}
